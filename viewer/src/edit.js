// Edits made in the page (move, turn, resize, rename, remove, add), written back into the scene's own files:
// the GLB the page was given (its JSON edited in place, a unit-cube mesh appended for added objects) and
// scene.json. Pure functions of the page's data and an edit state:
//
//   state = { objects: [{ index, name, label, center: [x, y, z], size: [w, h, d], yaw, removed }],   // the GLB's
//             added:   [{ name, label, center, size, yaw, removed }] }                            // new ones
//
// `index` is the object's order among the GLB's object nodes (extras.kind === "object").

const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"

/** { json, bin } of GLB bytes (Uint8Array or ArrayBuffer). */
export function parseGlb(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== GLB_MAGIC) throw new Error('not a GLB file');
  let offset = 12;
  let json = null;
  let bin = new Uint8Array(0);
  while (offset + 8 <= data.byteLength) {
    const length = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const chunk = data.subarray(offset + 8, offset + 8 + length);
    if (type === CHUNK_JSON) json = JSON.parse(new TextDecoder().decode(chunk));
    else if (type === CHUNK_BIN) bin = chunk.slice();
    offset += 8 + length;
  }
  if (!json) throw new Error('a GLB without its JSON chunk');
  return { json, bin };
}

/** GLB bytes of a glTF JSON and its binary buffer (chunks padded to 4 bytes as the specification asks). */
export function writeGlb(json, bin) {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const textPad = (4 - (text.length % 4)) % 4;
  const binPad = (4 - (bin.length % 4)) % 4;
  const total = 12 + 8 + text.length + textPad + (bin.length ? 8 + bin.length + binPad : 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, GLB_MAGIC, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, total, true);
  view.setUint32(12, text.length + textPad, true);
  view.setUint32(16, CHUNK_JSON, true);
  out.set(text, 20);
  out.fill(0x20, 20 + text.length, 20 + text.length + textPad);
  if (bin.length) {
    const at = 20 + text.length + textPad;
    view.setUint32(at, bin.length + binPad, true);
    view.setUint32(at + 4, CHUNK_BIN, true);
    out.set(bin, at + 8);
  }
  return out;
}

function yawQuaternion(yaw) {
  return [0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2)];
}

/** A unit cube (-0.5..0.5) with flat normals: positions, normals (Float32Array) and indices (Uint16Array). */
function unitCube() {
  const positions = [];
  const normals = [];
  const indices = [];
  for (let axis = 0; axis < 3; axis++) {
    for (const sign of [-1, 1]) {
      const u = (axis + 1) % 3;
      const v = (axis + 2) % 3;
      const base = positions.length / 3;
      for (const [du, dv] of [[-1, -1], [1, -1], [1, 1], [-1, 1]]) {
        const p = [0, 0, 0];
        const n = [0, 0, 0];
        p[axis] = 0.5 * sign;
        p[u] = 0.5 * du;
        p[v] = 0.5 * dv;
        n[axis] = sign;
        positions.push(...p);
        normals.push(...n);
      }
      const quad = [base, base + 1, base + 2, base, base + 2, base + 3];
      indices.push(...(sign > 0 ? quad : [quad[0], quad[2], quad[1], quad[3], quad[5], quad[4]]));
    }
  }
  return { positions: new Float32Array(positions), normals: new Float32Array(normals), indices: new Uint16Array(indices) };
}

/** Appends a unit-cube mesh (and a neutral material) to the glTF; returns [mesh index, the new binary buffer]. */
function appendCube(json, bin) {
  const cube = unitCube();
  const parts = [
    { data: new Uint8Array(cube.positions.buffer), target: 34962, type: 'VEC3', component: 5126, count: 24, bounds: true },
    { data: new Uint8Array(cube.normals.buffer), target: 34962, type: 'VEC3', component: 5126, count: 24 },
    { data: new Uint8Array(cube.indices.buffer), target: 34963, type: 'SCALAR', component: 5123, count: 36 },
  ];
  json.bufferViews = json.bufferViews || [];
  json.accessors = json.accessors || [];
  json.buffers = json.buffers && json.buffers.length ? json.buffers : [{ byteLength: 0 }];
  let out = bin;
  const made = [];
  for (const part of parts) {
    const start = out.length + ((4 - (out.length % 4)) % 4);
    const grown = new Uint8Array(start + part.data.length);
    grown.set(out, 0);
    grown.set(part.data, start);
    out = grown;
    json.bufferViews.push({ buffer: 0, byteOffset: start, byteLength: part.data.length, target: part.target });
    const accessor = { bufferView: json.bufferViews.length - 1, componentType: part.component, count: part.count, type: part.type };
    if (part.bounds) Object.assign(accessor, { min: [-0.5, -0.5, -0.5], max: [0.5, 0.5, 0.5] });
    json.accessors.push(accessor);
    made.push(json.accessors.length - 1);
  }
  const padded = new Uint8Array(out.length + ((4 - (out.length % 4)) % 4));
  padded.set(out, 0);
  json.buffers[0].byteLength = padded.length;
  json.materials = json.materials || [];
  json.materials.push({
    name: 'added', pbrMetallicRoughness: { baseColorFactor: [0.7, 0.7, 0.72, 1], metallicFactor: 0, roughnessFactor: 0.8 },
  });
  json.meshes = json.meshes || [];
  json.meshes.push({
    name: 'box_added',
    primitives: [{ attributes: { POSITION: made[0], NORMAL: made[1] }, indices: made[2], material: json.materials.length - 1 }],
  });
  return [json.meshes.length - 1, padded];
}

function placed(node, entry) {
  node.translation = entry.center.map(Number);
  node.rotation = yawQuaternion(entry.yaw);
  node.scale = entry.size.map(Number);
  node.extras = {
    ...(node.extras || {}),
    label: entry.label,
    box_center_m: entry.center.map(Number),
    box_size_m: entry.size.map(Number),
    box_yaw_rad: entry.yaw,
    edited: true,
  };
  return node;
}

/** The GLB with the edits: objects moved, turned, resized, renamed; removed ones gone; added ones as boxes. */
export function editedGlb(glbBytes, state) {
  const { json, bin } = parseGlb(glbBytes);
  const objectNodes = json.nodes
    .map((node, i) => ({ node, i }))
    .filter(({ node }) => node.extras && node.extras.kind === 'object');
  const removed = new Set();
  for (const entry of state.objects) {
    const hit = objectNodes[entry.index];
    if (!hit) continue;
    if (entry.removed) removed.add(hit.i);
    else placed(hit.node, entry);
  }
  let binary = bin;
  const live = state.added.filter((a) => !a.removed);
  if (live.length) {
    const [mesh, grown] = appendCube(json, binary);
    binary = grown;
    for (const entry of live) {
      json.nodes.push(placed({ name: entry.name, mesh }, { ...entry }));
      Object.assign(json.nodes[json.nodes.length - 1].extras, {
        kind: 'object', category: entry.label, detection_index: -1, confidence: null, shape: 'box', added: true,
      });
    }
  }
  // drop removed nodes, renumbering the scene's node list (the nodes have no children)
  const keep = json.nodes.map((_, i) => !removed.has(i));
  const renumber = new Map();
  const nodes = [];
  json.nodes.forEach((node, i) => {
    if (keep[i]) {
      renumber.set(i, nodes.length);
      nodes.push(node);
    }
  });
  json.nodes = nodes;
  for (const scene of json.scenes || []) scene.nodes = nodes.map((_, k) => k); // every node is a root node
  // meshes only removed nodes used are dropped too (no unused object left for a validator to flag)
  const used = new Set(nodes.filter((n) => n.mesh !== undefined).map((n) => n.mesh));
  if (used.size !== (json.meshes || []).length) {
    const meshMap = new Map();
    json.meshes = json.meshes.filter((_, i) => {
      if (!used.has(i)) return false;
      meshMap.set(i, meshMap.size);
      return true;
    });
    for (const node of nodes) if (node.mesh !== undefined) node.mesh = meshMap.get(node.mesh);
  }
  return writeGlb(json, binary);
}

/** The 8 corners of a box (CONVENTIONS.md order) in the world. */
export function boxCorners(center, size, yaw) {
  const [hx, hy, hz] = size.map((s) => s / 2);
  const local = [[-hx, -hy, -hz], [hx, -hy, -hz], [hx, hy, -hz], [-hx, hy, -hz],
    [-hx, -hy, hz], [hx, -hy, hz], [hx, hy, hz], [-hx, hy, hz]];
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return local.map(([x, y, z]) => [center[0] + c * x + s * z, center[1] + y, center[2] - s * x + c * z]);
}

/** scene.json with the edits (objects updated, removed ones gone, added ones listed) and `edited: true`. */
export function editedSceneJson(meta, state) {
  const out = JSON.parse(JSON.stringify(meta || {}));
  const objects = Array.isArray(out.objects) ? out.objects : [];
  const kept = [];
  state.objects.forEach((entry) => {
    const obj = objects[entry.index];
    if (!obj || entry.removed) return;
    Object.assign(obj, {
      label: entry.label, center: entry.center.slice(), size: entry.size.slice(), yaw: entry.yaw,
      corners: boxCorners(entry.center, entry.size, entry.yaw),
    });
    kept.push(obj);
  });
  for (const entry of state.added) {
    if (entry.removed) continue;
    kept.push({
      name: entry.name, label: entry.label, category: entry.label, detection_index: -1, confidence: null,
      center: entry.center.slice(), size: entry.size.slice(), yaw: entry.yaw,
      corners: boxCorners(entry.center, entry.size, entry.yaw), size_source: 'user', notes: ['added in the page'],
    });
  }
  out.objects = kept;
  out.edited = true;
  delete out.relations; // computed from the solved scene: no longer true of the edited one
  return out;
}

/**
 * edits.json for `room3d build PHOTO --edits edits.json` (pipeline/edits.py): every object the user changed or
 * placed (boxes kept as given), removed and relabelled detections, added objects, with the scene's camera.
 * `original` is the edit state as the page opened (the solved scene). Objects an earlier edits file fixed or added
 * (size_source "user") stay fixed.
 */
export function editsJson(meta, state, original) {
  const objects = [];
  const metaObjects = (meta && Array.isArray(meta.objects)) ? meta.objects : [];
  // what an earlier edits file removed or relabelled (the scene no longer shows it as an edit) carries over
  const earlier = (meta && meta.inputs && meta.inputs.edits) || {};
  const removedBefore = Array.isArray(earlier.removed_detections) ? earlier.removed_detections : [];
  const relabeledBefore = new Set((Array.isArray(earlier.relabeled_detections) ? earlier.relabeled_detections : [])
    .map((pair) => Array.isArray(pair) ? pair[0] : null));
  const same = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-9);
  state.objects.forEach((entry, i) => {
    const was = original.objects[i];
    const obj = metaObjects[entry.index] || {};
    const index = Number.isInteger(obj.detection_index) && obj.detection_index >= 0 ? obj.detection_index : null;
    if (entry.removed) {
      if (index !== null) objects.push({ detection_index: index, remove: true });
      return;
    }
    const moved = !was || !same(entry.center, was.center) || !same(entry.size, was.size) || Math.abs(entry.yaw - was.yaw) > 1e-9;
    const relabeled = !was || entry.label !== was.label || relabeledBefore.has(index);
    if (moved || obj.size_source === 'user' || index === null) {
      const box = { label: entry.label, center: entry.center.slice(), size: entry.size.slice(), yaw: entry.yaw };
      objects.push(index === null ? box : { detection_index: index, ...box });
    } else if (relabeled) objects.push({ detection_index: index, label: entry.label });
  });
  for (const entry of state.added) {
    if (!entry.removed) objects.push({ label: entry.label, center: entry.center.slice(), size: entry.size.slice(), yaw: entry.yaw });
  }
  for (const index of removedBefore) {
    if (Number.isInteger(index) && index >= 0 && !objects.some((o) => o.detection_index === index)) {
      objects.push({ detection_index: index, remove: true });
    }
  }
  return {
    room3d: 'edits',
    version: 1,
    photo_sha256: (meta && meta.inputs && meta.inputs.photo_sha256) || null,
    camera: (meta && meta.camera) || null,
    objects,
  };
}
