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
