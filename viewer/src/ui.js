// DOM side of the viewer. Model text (labels, categories) only ever reaches the DOM through
// textContent / DOM properties, never through innerHTML or HTML strings.
import { CSS2DObject } from 'three/addons/renderers/CSS2DRenderer.js';
import { fmtDeg, fmtSize, labelText } from './format.js';

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

export function fillInfo(objectCount, fov, sceneJsonUnreadable = false) {
  const info = byId(IDS.info);
  if (!info) return;
  const parts = [`${objectCount} object${objectCount === 1 ? '' : 's'}`];
  if (fov && fov.h !== undefined && fov.v !== undefined) parts.push(`photo FOV ${fmtDeg(fov.h)} × ${fmtDeg(fov.v)}`);
  else if (fov && fov.v !== undefined) parts.push(`photo vertical FOV ${fmtDeg(fov.v)}`);
  if (sceneJsonUnreadable) parts.push('scene.json unreadable');
  info.textContent = parts.join(' · ');
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

/** Shows the photo's frame (letterbox) in photo view; rect in CSS pixels of the viewport. */
export function showPhotoFrame(visible, viewW, viewH, photoAspect) {
  const f = byId(IDS.photoFrame);
  if (!f) return;
  if (!visible || !(photoAspect > 0) || !viewW || !viewH) {
    f.hidden = true;
    return;
  }
  let w = viewW;
  let h = viewH;
  if (viewW / viewH >= photoAspect) w = viewH * photoAspect;
  else h = viewW / photoAspect;
  f.style.width = `${w}px`;
  f.style.height = `${h}px`;
  f.style.left = `${(viewW - w) / 2}px`;
  f.style.top = `${(viewH - h) / 2}px`;
  f.hidden = false;
}
