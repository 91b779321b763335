// Label decluttering: each label goes at its anchor or, where that overlaps a label placed before it, a row above
// or below; a label that fits nowhere is hidden. Labels are placed in priority order (the selected object first,
// then the objects that look biggest from the camera).
import { Vector3 } from 'three';

const PAD_PX = 3;
const p = new Vector3();

/**
 * items: [{label (CSS2DObject), priority (number)}]. Call after CSS2DRenderer.render (which sets each
 * element's `transform`; the shift goes into the separate CSS `translate` property). Returns how many are shown.
 */
export function declutter(items, camera, width, height) {
  const order = items.slice().sort((a, b) => b.priority - a.priority);
  const shown = [];
  for (const item of order) {
    const el = item.label.element;
    if (!item.label.visible || el.style.display === 'none') continue;
    if (!item.w) {
      item.w = el.offsetWidth;
      item.h = el.offsetHeight;
    }
    item.label.getWorldPosition(p).project(camera);
    const x = ((p.x + 1) / 2) * width;
    const y = ((1 - p.y) / 2) * height;
    const step = item.h + PAD_PX;
    let placed = null;
    for (const dy of [0, -step, step, -2 * step, 2 * step]) {
      const r = [x - item.w / 2 - PAD_PX, y + dy - item.h - PAD_PX, x + item.w / 2 + PAD_PX, y + dy + PAD_PX];
      if (!shown.some((s) => r[0] < s[2] && s[0] < r[2] && r[1] < s[3] && s[1] < r[3])) {
        placed = { r, dy };
        break;
      }
    }
    el.style.visibility = placed ? '' : 'hidden';
    el.style.translate = placed && placed.dy ? `0 ${placed.dy}px` : '';
    if (placed) shown.push(placed.r);
  }
  return shown.length;
}
