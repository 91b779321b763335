// Text formatting for labels and the panel. Everything here returns plain strings that
// the UI puts into the DOM with textContent only.

export function fmtMetres(x) {
  return Number.isFinite(x) ? x.toFixed(2) : '?';
}

/** "1.52×0.55×2.03 m" (full extents sx × sy × sz: width × height × depth). */
export function fmtSize(size) {
  if (!size) return '';
  return `${fmtMetres(size[0])}×${fmtMetres(size[1])}×${fmtMetres(size[2])} m`;
}

export function fmtDeg(rad) {
  return `${Math.round((rad * 180) / Math.PI)}°`;
}

/** Label text as shown over an object: "bed · 1.52×0.55×2.03 m". */
export function labelText(label, size) {
  const s = fmtSize(size);
  return s ? `${label} · ${s}` : String(label);
}

/** Feet and inches, to the nearest inch: 1.52 -> "4 ft 11 in"; under a foot: "7 in". */
export function fmtFeetInches(metres) {
  if (!Number.isFinite(metres)) return '?';
  const sign = metres < 0 ? '-' : '';
  const inches = Math.round(Math.abs(metres) / 0.0254);
  const ft = Math.floor(inches / 12);
  const rest = inches % 12;
  return ft ? `${sign}${ft} ft ${rest} in` : `${sign}${rest} in`;
}

/** A distance for the measure tool: "2.41 m · 7 ft 11 in". */
export function fmtDistance(metres) {
  return `${fmtMetres(metres)} m · ${fmtFeetInches(metres)}`;
}
