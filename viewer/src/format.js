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

const ROOM_SOURCES = {
  depth: 'measured',
  'depth+inferred': 'one wall measured, the other not seen',
  layout: 'from the layout answer',
  prior: 'a typical height, not measured',
  objects: 'above the tallest object, not measured',
  inferred: 'walls inferred from the objects in view',
};

/** The room's size for the top bar, "room 3.42 × ≥4.10 m, 2.60 m high, ≥14.0 m²" ("≥": at least, a wall not
 *  seen), and its sources for the tooltip; '' without dimensions (scene.json's room.dimensions). */
export function fmtRoom(dimensions) {
  if (!dimensions || !dimensions.width || !dimensions.depth) return { text: '', title: '' };
  const v = (d, digits) => `${d.at_least ? '≥' : ''}${Number(d.value).toFixed(digits)}`;
  let text = `room ${v(dimensions.width, 2)} × ${v(dimensions.depth, 2)} m`;
  if (dimensions.height) text += `, ${v(dimensions.height, 2)} m high`;
  if (dimensions.floor_area) text += `, ${v(dimensions.floor_area, 1)} m²`;
  const title = ['width', 'depth', 'height']
    .filter((name) => dimensions[name])
    .map((name) => `${name}: ${ROOM_SOURCES[dimensions[name].source] || String(dimensions[name].source)}`)
    .join('; ');
  return { text, title: `${title}${text.includes('≥') ? ' (≥: at least, a wall not seen)' : ''}` };
}
