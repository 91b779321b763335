// DOM side of the viewer. Model text (labels, categories) only ever reaches the DOM through
// textContent / DOM properties, never through innerHTML or HTML strings.
import { CSS2DObject } from 'three/addons/renderers/CSS2DRenderer.js';
import { fmtDeg, fmtFeetInches, fmtMetres, fmtRoom, fmtSize, labelText } from './format.js';

export const IDS = {
  viewport: 'room3d-viewport',
  status: 'room3d-status',
  info: 'room3d-info',
  objects: 'room3d-objects',
  overview: 'room3d-btn-overview',
  photo: 'room3d-btn-photo',
  photoFrame: 'room3d-photo-frame',
  topbar: 'room3d-topbar',
  panel: 'room3d-panel',
  photoImg: 'room3d-photo-img',
  photoBar: 'room3d-photo-bar',
  photoOpacity: 'room3d-photo-opacity',
  measure: 'room3d-btn-measure',
  measureReadout: 'room3d-measure-readout',
  code: 'room3d-btn-code',
  codeDialog: 'room3d-code',
  codeText: 'room3d-code-text',
  codeCopy: 'room3d-code-copy',
  codeClose: 'room3d-code-close',
  plan: 'room3d-btn-plan',
  planDialog: 'room3d-plan',
  planClose: 'room3d-plan-close',
  glb: 'room3d-btn-glb',
  json: 'room3d-btn-json',
  selection: 'room3d-selection',
  selLabel: 'room3d-sel-label',
  selDot: 'room3d-sel-dot',
  selDetails: 'room3d-sel-details',
  selClose: 'room3d-sel-close',
  showRoom: 'room3d-show-room',
  showLabels: 'room3d-show-labels',
  showPoints: 'room3d-show-points',
  showDimensions: 'room3d-show-dimensions',
  showShapes: 'room3d-show-shapes',
  showPointsLabel: 'room3d-show-points-label',
  add: 'room3d-btn-add',
  edits: 'room3d-btn-edits',
  selRename: 'room3d-sel-rename',
  selTurn: 'room3d-sel-turn',
  selDelete: 'room3d-sel-delete',
};

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function byId(id) {
  return document.getElementById(id);
}

/** The viewport element (created full-window when the page has none). */
export function viewportElement() {
  let v = byId(IDS.viewport);
  if (!v) {
    v = el('div');
    v.id = IDS.viewport;
    v.style.position = 'fixed';
    v.style.inset = '0';
    document.body.appendChild(v);
  }
  return v;
}

export function showStatus(message, isError) {
  let s = byId(IDS.status);
  if (!s) {
    s = el('div');
    s.id = IDS.status;
    document.body.appendChild(s);
  }
  s.textContent = message;
  s.hidden = !message;
  s.classList.toggle('error', !!isError);
  if (isError) s.setAttribute('role', 'alert');
}

/** A CSS2D label over an object: "<dot> label · 1.52×0.55×2.03 m", text set with textContent. */
export function makeLabel(info) {
  const root = el('div', 'room3d-label');
  const dot = el('span', 'dot');
  dot.style.backgroundColor = info.colour;
  root.appendChild(dot);
  root.appendChild(el('span', 'name', String(info.label)));
  const size = fmtSize(info.size);
  if (size) root.appendChild(el('span', 'size', ` · ${size}`));
  root.title = labelText(info.label, info.size);
  const obj = new CSS2DObject(root);
  obj.name = 'room3d-label';
  obj.center.set(0.5, 1); // anchor: bottom centre of the label
  return obj;
}

export function fillInfo(objectCount, fov, sceneJsonUnreadable = false, roomDimensions = null) {
  const info = byId(IDS.info);
  if (!info) return;
  const parts = [`${objectCount} object${objectCount === 1 ? '' : 's'}`];
  const room = fmtRoom(roomDimensions);
  if (room.text) parts.push(room.text);
  if (fov && fov.h !== undefined && fov.v !== undefined) parts.push(`photo FOV ${fmtDeg(fov.h)} × ${fmtDeg(fov.v)}`);
  else if (fov && fov.v !== undefined) parts.push(`photo vertical FOV ${fmtDeg(fov.v)}`);
  if (sceneJsonUnreadable) parts.push('scene.json unreadable');
  info.textContent = parts.join(' · ');
  info.title = room.title;
}

/** The object list; handlers get the object info. */
export function fillObjectList(objects, { onHover, onClick }) {
  const list = byId(IDS.objects);
  if (!list) return;
  list.replaceChildren();
  if (!objects.length) {
    list.appendChild(el('li', 'empty', 'No objects detected'));
    return;
  }
  for (const info of objects) {
    const li = el('li');
    const button = el('button', 'object');
    button.type = 'button';
    const dot = el('span', 'dot');
    dot.style.backgroundColor = info.colour;
    button.appendChild(dot);
    button.appendChild(el('span', 'name', String(info.label)));
    button.appendChild(el('span', 'size', fmtSize(info.size)));
    button.title = `${info.name}${info.confidence !== null ? ` · confidence ${info.confidence.toFixed(2)}` : ''}`;
    button.addEventListener('mouseenter', () => onHover(info, true));
    button.addEventListener('mouseleave', () => onHover(info, false));
    button.addEventListener('focus', () => onHover(info, true));
    button.addEventListener('blur', () => onHover(info, false));
    button.addEventListener('click', () => onClick(info));
    button.dataset.name = info.name;
    li.appendChild(button);
    list.appendChild(li);
  }
}

export function setActiveButton(view) {
  for (const [id, name] of [[IDS.overview, 'overview'], [IDS.photo, 'photo']]) {
    const b = byId(id);
    if (b) b.setAttribute('aria-pressed', String(view === name));
  }
}

/** Marks the list entry of the selected object (or none) and scrolls it into view. */
export function markListSelection(name) {
  const list = byId(IDS.objects);
  if (!list) return;
  for (const b of list.querySelectorAll('button.object')) {
    const on = b.dataset.name === name;
    b.setAttribute('aria-current', String(on));
    if (on && b.scrollIntoView) b.scrollIntoView({ block: 'nearest' });
  }
}

/**
 * Fills the selection card. `info`: the viewer's object info; `record`: the object of scene.json
 * (label, category, confidence, size_source, notes, yaw...) or null. Every value goes in as text.
 */
export function showSelection(info, record) {
  const card = byId(IDS.selection);
  if (!card) return;
  if (!info) {
    card.hidden = true;
    return;
  }
  byId(IDS.selLabel).textContent = String(info.label);
  byId(IDS.selDot).style.backgroundColor = info.colour;
  const rows = [];
  const [w, h, d] = info.size;
  rows.push(['Size', `${fmtMetres(w)} × ${fmtMetres(h)} × ${fmtMetres(d)} m`]);
  rows.push(['', info.size.map(fmtFeetInches)]); // parts kept whole when the line wraps
  rows.push(['', 'width × height × depth']);
  const r = record || {};
  if (typeof r.category === 'string' && r.category && r.category !== info.label) rows.push(['Category', r.category]);
  const confidence = typeof r.confidence === 'number' ? r.confidence : info.confidence;
  if (typeof confidence === 'number') rows.push(['Confidence', confidence.toFixed(2)]);
  if (typeof r.size_source === 'string' && r.size_source) rows.push(['Size from', r.size_source]);
  const notes = Array.isArray(r.notes) ? r.notes.filter((n) => typeof n === 'string' && n) : [];
  if (notes.length) rows.push(['Notes', notes.join('; ')]);
  const c = info.centre;
  rows.push(['Centre', `${fmtMetres(c.x)}, ${fmtMetres(c.y)}, ${fmtMetres(c.z)} m`]);
  rows.push(['Height of top', `${fmtMetres(c.y + h / 2)} m · ${fmtFeetInches(c.y + h / 2)}`]);
  if (info.name !== info.label) rows.push(['Node', info.name]);
  const dl = byId(IDS.selDetails);
  dl.replaceChildren();
  for (const [k, v] of rows) {
    dl.appendChild(el('dt', '', k));
    if (Array.isArray(v)) {
      const dd = el('dd');
      v.forEach((part, i) => {
        if (i) dd.appendChild(document.createTextNode(' × '));
        dd.appendChild(el('span', 'part', part));
      });
      dl.appendChild(dd);
    } else {
      dl.appendChild(el('dd', '', String(v)));
    }
  }
  card.hidden = false;
}

/** Saves bytes as a file through a Blob URL (no network). */
export function downloadBytes(bytes, type, filename) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = el('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** Copies text to the clipboard; falls back to selecting it (the user presses Ctrl+C). */
export async function copyText(text, codeElement) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (err) {
    // permission refused (e.g. a file:// page in some browsers): select instead
  }
  const range = document.createRange();
  range.selectNodeContents(codeElement);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  try {
    return document.execCommand('copy');
  } catch (err) {
    return false;
  }
}
