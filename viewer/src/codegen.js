// The "code" view: readable three.js code that rebuilds the scene (one BoxGeometry per object, the room
// shell as flat surfaces with outlines), for a web developer to paste into their own page.
// Model text (labels) only enters the code as JS string literals (see `lit`).
import { Euler } from 'three';

/** A JS string literal for any text: JSON.stringify, with "<" escaped so "</script>" cannot end a script. */
export function lit(text) {
  return JSON.stringify(String(text))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A number with at most 4 decimals (0.1 mm), no "-0". */
export function num(x) {
  const v = Number(Number(x).toFixed(4));
  return Object.is(v, -0) ? '0' : String(v);
}

const vec = (a) => `[${a.map(num).join(', ')}]`;

function isPoint(p, n) {
  return Array.isArray(p) && p.length === n && p.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/**
 * The module's text. `objects`: the viewer's object infos (node, name, label, size, colour); `room`:
 * scene.json's room ({floor_polygon [[x, z]...], ceiling_height_m, walls [{name, corners}]}) or null.
 */
export function sceneCode(objects, room, title) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  out(`// ${String(title || 'room3d scene').replace(/[\r\n\u2028\u2029]+/g, ' ')}: rebuilt with three.js.`);
  out('// Units: metres. +Y up, floor at y = 0 (the glTF frame); the photo was taken looking along -Z.');
  out('//');
  out("//   import { addRoom } from './room.js';");
  out('//   const room = addRoom(scene); // a THREE.Group: one mesh per object, one per room surface');
  out('//');
  out('// Each object is a box: size = [width, height, depth], position = its centre, yaw = turn about +Y');
  out('// (radians); the box\'s own +Z is the object\'s front.');
  out("import * as THREE from 'three';");
  out();
  out('export function addRoom(scene) {');
  out('  const room = new THREE.Group();');
  out("  room.name = 'room3d';");
  if (objects.length) out('  //  addBox(parent, name, label, size, position, yaw, colour)');
  for (const o of objects) {
    const p = o.node.position;
    const yaw = new Euler().setFromQuaternion(o.node.quaternion, 'YXZ').y;
    out(`  addBox(room, ${lit(o.name)}, ${lit(o.label)}, ${vec(o.size)}, ${vec([p.x, p.y, p.z])}, ${num(yaw)}, ${lit(o.colour)});`);
  }
  const surfaces = roomSurfaces(room);
  if (surfaces.length) {
    out();
    out('  // Room shell: flat surfaces given by their corners (world metres).');
    for (const s of surfaces) {
      out(`  addSurface(room, ${lit(s.name)}, [${s.corners.map(vec).join(', ')}], ${lit(s.colour)});`);
    }
  }
  out('  scene.add(room);');
  out('  return room;');
  out('}');
  out();
  out('function addBox(parent, name, label, size, position, yaw, colour) {');
  out('  const box = new THREE.Mesh(');
  out('    new THREE.BoxGeometry(size[0], size[1], size[2]),');
  out('    new THREE.MeshStandardMaterial({ color: colour, transparent: true, opacity: 0.45, roughness: 0.85 }),');
  out('  );');
  out('  box.name = name;');
  out('  box.userData.label = label;');
  out('  box.position.set(position[0], position[1], position[2]);');
  out('  box.rotation.y = yaw;');
  out('  const edges = new THREE.LineSegments(');
  out('    new THREE.EdgesGeometry(box.geometry),');
  out('    new THREE.LineBasicMaterial({ color: colour }),');
  out('  );');
  out('  box.add(edges);');
  out('  parent.add(box);');
  out('  return box;');
  out('}');
  out();
  out('function addSurface(parent, name, corners, colour) {');
  out('  const points = corners.map((c) => new THREE.Vector3(c[0], c[1], c[2]));');
  out('  // Triangulate in the plane of the surface: drop the axis it faces most.');
  out('  const normal = new THREE.Vector3();');
  out('  for (let i = 0; i < points.length; i++) {');
  out('    const a = points[i];');
  out('    const b = points[(i + 1) % points.length];');
  out('    normal.x += (a.y - b.y) * (a.z + b.z);');
  out('    normal.y += (a.z - b.z) * (a.x + b.x);');
  out('    normal.z += (a.x - b.x) * (a.y + b.y);');
  out('  }');
  out('  const n = [Math.abs(normal.x), Math.abs(normal.y), Math.abs(normal.z)];');
  out('  const drop = n.indexOf(Math.max(...n));');
  out("  const [u, v] = [['y', 'z'], ['x', 'z'], ['x', 'y']][drop];");
  out('  const flat = points.map((p) => new THREE.Vector2(p[u], p[v]));');
  out('  const triangles = THREE.ShapeUtils.triangulateShape(flat, []);');
  out('  const geometry = new THREE.BufferGeometry().setFromPoints(points);');
  out('  geometry.setIndex(triangles.flat());');
  out('  geometry.computeVertexNormals();');
  out('  const surface = new THREE.Mesh(');
  out('    geometry,');
  out('    new THREE.MeshStandardMaterial({ color: colour, side: THREE.DoubleSide, transparent: true, opacity: 0.35 }),');
  out('  );');
  out('  surface.name = name;');
  out('  const outline = new THREE.LineLoop(');
  out('    new THREE.BufferGeometry().setFromPoints(points),');
  out("    new THREE.LineBasicMaterial({ color: '#8a939e' }),");
  out('  );');
  out('  surface.add(outline);');
  out('  parent.add(surface);');
  out('  return surface;');
  out('}');
  return `${lines.join('\n')}\n`;
}

const SURFACE_COLOURS = { floor: '#e7e2da', ceiling: '#f4f4f2', wall: '#e3e8ee' };

/** Floor, walls and ceiling as {name, corners (3D), colour} from scene.json's room. */
export function roomSurfaces(room) {
  if (!room || typeof room !== 'object') return [];
  const out = [];
  const floor = Array.isArray(room.floor_polygon) ? room.floor_polygon.filter((p) => isPoint(p, 2)) : [];
  if (floor.length >= 3) out.push({ name: 'floor', corners: floor.map(([x, z]) => [x, 0, z]), colour: SURFACE_COLOURS.floor });
  for (const wall of Array.isArray(room.walls) ? room.walls : []) {
    const corners = wall && Array.isArray(wall.corners) ? wall.corners.filter((p) => isPoint(p, 3)) : [];
    if (corners.length >= 3) out.push({ name: String(wall.name || 'wall'), corners, colour: SURFACE_COLOURS.wall });
  }
  const h = room.ceiling_height_m;
  if (floor.length >= 3 && typeof h === 'number' && Number.isFinite(h) && h > 0) {
    out.push({ name: 'ceiling', corners: floor.map(([x, z]) => [x, h, z]), colour: SURFACE_COLOURS.ceiling });
  }
  return out;
}
