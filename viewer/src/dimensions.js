// The room's dimension lines (width, depth, height) over the room shell, from scene.json's room: a layer the
// user turns on. The text goes into the DOM with textContent only.
import { BufferGeometry, Float32BufferAttribute, Group, LineBasicMaterial, LineSegments, Vector3 } from 'three';
import { CSS2DObject } from 'three/addons/renderers/CSS2DRenderer.js';
import { fmtFeetInches, fmtMetres } from './format.js';

/** A hidden group: a line along the far floor edge (width), one along the right edge (depth) and one up the far
 *  right corner (height), each with its length ("≥": at least, a wall not seen). Empty unless the floor is a
 *  rectangle. */
export function dimensionLines(room) {
  const group = new Group();
  group.name = 'room3d-dimensions';
  group.visible = false;
  const floor = room && Array.isArray(room.floor_polygon) ? room.floor_polygon : [];
  if (floor.length !== 4 || !floor.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite))) {
    return group;
  }
  const lift = 0.02; // just above the floor, so the line is not hidden in it
  const p = floor.map(([x, z]) => new Vector3(x, lift, z));
  const sizes = room.dimensions || {};
  const segments = [['width', p[3], p[2]], ['depth', p[2], p[1]]];
  const height = Number(room.ceiling_height_m);
  if (Number.isFinite(height) && height > 0) segments.push(['height', p[2], new Vector3(p[2].x, height, p[2].z)]);
  const positions = [];
  for (const [name, a, b] of segments) {
    positions.push(a.x, a.y, a.z, b.x, b.y, b.z);
    const size = sizes[name];
    const value = size && Number.isFinite(Number(size.value)) ? Number(size.value) : a.distanceTo(b);
    const element = document.createElement('div');
    element.className = 'room3d-dimension';
    element.dataset.name = name;
    element.textContent = `${name} ${size && size.at_least ? '≥' : ''}${fmtMetres(value)} m · ${fmtFeetInches(value)}`;
    const label = new CSS2DObject(element);
    label.name = `room3d-dimension-${name}`;
    label.position.copy(a).add(b).multiplyScalar(0.5);
    label.visible = false;
    group.add(label);
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new Float32BufferAttribute(positions, 3));
  const lines = new LineSegments(geometry, new LineBasicMaterial({ color: '#b45309', depthTest: false }));
  lines.renderOrder = 10;
  group.add(lines);
  return group;
}

/** Show or hide the group and its labels (a CSS2D label follows its own flag, not its parent's). */
export function showDimensions(group, visible) {
  group.visible = visible;
  for (const child of group.children) child.visible = visible;
}
