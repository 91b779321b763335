// Turns the loaded glTF scene into something readable: coloured translucent boxes with
// crisp edges for objects, a light see-through room shell, a floor grid and a small
// frustum marking where the photo was taken.
import {
  Box3,
  BoxGeometry,
  BufferGeometry,
  Color,
  DoubleSide,
  EdgesGeometry,
  Float32BufferAttribute,
  Group,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshStandardMaterial,
  Vector3,
} from 'three';

// Tableau 10: distinct, readable on a light background.
const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1',
  '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#6b6ecf',
];

const ROOM_STYLE = {
  floor: { color: '#e7e2da', inside: 0.92, outside: 0.12 },
  ceiling: { color: '#f4f4f2', inside: 0.1, outside: 0.0 },
  wall: { color: '#e3e8ee', inside: 0.42, outside: 0.07 },
};

const RENDER_ORDER = { floor: -3, grid: -2, wall: -1, object: 0, edges: 1 };

// The unit box of an object with a furniture shape (the node's scale makes it the solved box).
const UNIT_BOX = new BoxGeometry(1, 1, 1);

function kindOf(node) {
  return node.userData && typeof node.userData.kind === 'string' ? node.userData.kind : null;
}

/** Original glTF node name (GLTFLoader sanitises Object3D.name, e.g. "chair.001" -> "chair001"). */
export function nodeName(node) {
  const n = node.userData && node.userData.name;
  return typeof n === 'string' && n ? n : node.name || '';
}

function meshesUnder(node) {
  const out = [];
  node.traverse((o) => {
    if (o.isMesh) out.push(o);
  });
  return out;
}

/** Full extents of an object node in its own axes: geometry extent × scale, for the unit-cube contract. */
function objectSize(node) {
  const meshes = meshesUnder(node);
  const box = new Box3();
  const tmp = new Box3();
  for (const m of meshes) {
    if (!m.geometry.boundingBox) m.geometry.computeBoundingBox();
    tmp.copy(m.geometry.boundingBox);
    if (m !== node) tmp.applyMatrix4(m.matrix); // child mesh: into the node's frame
    box.union(tmp);
  }
  if (box.isEmpty()) return [node.scale.x, node.scale.y, node.scale.z];
  const s = box.getSize(new Vector3());
  return [s.x * node.scale.x, s.y * node.scale.y, s.z * node.scale.z];
}

function edgesFor(mesh, color, opacity, cache) {
  let geo = cache.get(mesh.geometry);
  if (!geo) {
    geo = new EdgesGeometry(mesh.geometry, 20);
    cache.set(mesh.geometry, geo);
  }
  const mat = new LineBasicMaterial({ color, transparent: opacity < 1, opacity, depthWrite: false });
  const lines = new LineSegments(geo, mat);
  lines.name = '';
  lines.renderOrder = RENDER_ORDER.edges;
  lines.userData = { room3dHelper: true };
  return lines;
}

/** Plane of a (flat) room mesh in world space: a point and a unit normal, or null. */
function planeOf(mesh) {
  const pos = mesh.geometry.getAttribute('position');
  if (!pos || pos.count < 3) return null;
  const idx = mesh.geometry.getIndex();
  const at = (i) => new Vector3().fromBufferAttribute(pos, idx ? idx.getX(i) : i).applyMatrix4(mesh.matrixWorld);
  const n = idx ? idx.count : pos.count;
  for (let t = 0; t + 2 < n; t += 3) {
    const a = at(t);
    const normal = new Vector3().subVectors(at(t + 1), a).cross(new Vector3().subVectors(at(t + 2), a));
    if (normal.lengthSq() > 1e-12) return { point: a, normal: normal.normalize() };
  }
  return null;
}

/**
 * Restyles the glTF scene in place and returns what the UI needs.
 * Must be called after the counts (meshCount/objectCount) were taken.
 */
export function dressScene(root) {
  root.updateMatrixWorld(true);
  const edgeCache = new Map();

  const objects = [];
  const roomParts = [];
  let photoCamera = null;
  let photoCameraNode = null;
  const categoryColour = new Map();

  for (const node of root.children) {
    const kind = kindOf(node);
    if (kind === 'object') objects.push(node);
    else if (kind === 'room') roomParts.push(node);
    else if (kind === 'camera' || nodeName(node) === 'photo_camera') {
      if (!photoCameraNode) {
        node.traverse((o) => {
          if (!photoCamera && o.isPerspectiveCamera) photoCamera = o;
        });
        if (photoCamera) photoCameraNode = node;
      }
    }
  }

  // ---- objects -------------------------------------------------------------------------------
  const objectInfos = objects.map((node, i) => {
    const ud = node.userData || {};
    const name = nodeName(node) || `object ${i + 1}`;
    const label = typeof ud.label === 'string' && ud.label.trim() ? ud.label : name;
    const category = typeof ud.category === 'string' && ud.category ? ud.category : label;
    if (!categoryColour.has(category)) categoryColour.set(category, PALETTE[categoryColour.size % PALETTE.length]);
    const colour = new Color(categoryColour.get(category));
    const edgeColour = colour.clone().multiplyScalar(0.6);
    const materials = [];
    const boxMat = () => new MeshStandardMaterial({
      color: colour,
      roughness: 0.85,
      metalness: 0,
      transparent: true,
      opacity: 0.3,
      depthWrite: false,
      side: DoubleSide,
    });
    // a furniture shape keeps its own materials; its box is a unit box added under the node, shown in box mode
    const shapeMeshes = ud.shape === 'furniture' ? meshesUnder(node) : [];
    const boxMeshes = [];
    if (shapeMeshes.length) {
      for (const mesh of shapeMeshes) {
        mesh.renderOrder = RENDER_ORDER.object;
        // the category-coloured parts (upholstery, a cabinet's body) take the page's colour for the category
        const part = mesh.material && typeof mesh.material.name === 'string' ? mesh.material.name : '';
        if (part.endsWith('_fabric') || part.endsWith('_body')) mesh.material.color.copy(colour);
      }
      const box = new Mesh(UNIT_BOX, boxMat());
      box.userData = { room3dHelper: true, room3dBox: true };
      node.add(box);
      boxMeshes.push(box);
    } else boxMeshes.push(...meshesUnder(node));
    for (const mesh of boxMeshes) {
      const mat = shapeMeshes.length ? mesh.material : boxMat();
      mesh.material = mat;
      mesh.renderOrder = RENDER_ORDER.object;
      mesh.castShadow = false;
      materials.push(mat);
      mesh.add(edgesFor(mesh, edgeColour, 0.95, edgeCache));
    }
    const centre = new Vector3();
    node.getWorldPosition(centre);
    return {
      node,
      index: i,
      name,
      label,
      category,
      colour: `#${colour.getHexString()}`,
      size: objectSize(node),
      centre,
      materials,
      boxMeshes,
      shapeMeshes,
      confidence: typeof ud.confidence === 'number' ? ud.confidence : null,
    };
  });

  // ---- room shell ----------------------------------------------------------------------------
  const roomBox = new Box3();
  for (const node of roomParts) roomBox.expandByObject(node);
  const sceneBox = new Box3();
  for (const info of objectInfos) sceneBox.expandByObject(info.node);
  sceneBox.union(roomBox);
  const roomCentre = (roomBox.isEmpty() ? sceneBox : roomBox).getCenter(new Vector3());

  const fading = []; // {material, point, inward, inside, outside}
  const roomMeshes = []; // {mesh, role}
  let floorBox = null;
  for (const node of roomParts) {
    const name = nodeName(node);
    const role = name === 'floor' ? 'floor' : name === 'ceiling' ? 'ceiling' : 'wall';
    const style = ROOM_STYLE[role];
    if (role === 'floor') floorBox = new Box3().setFromObject(node);
    for (const mesh of meshesUnder(node)) {
      const mat = new MeshStandardMaterial({
        color: style.color,
        roughness: 1,
        metalness: 0,
        transparent: true,
        opacity: style.inside,
        depthWrite: false,
        side: DoubleSide,
        polygonOffset: true,
        polygonOffsetFactor: 1,
        polygonOffsetUnits: 1,
      });
      mesh.material = mat;
      mat.userData.facing = true;
      roomMeshes.push({ mesh, role });
      mesh.renderOrder = role === 'floor' ? RENDER_ORDER.floor : RENDER_ORDER.wall;
      const outline = edgesFor(mesh, '#8a939e', role === 'ceiling' ? 0.25 : 0.6, edgeCache);
      outline.renderOrder = RENDER_ORDER.wall;
      mesh.add(outline);
      const plane = planeOf(mesh);
      if (plane) {
        const inward = plane.normal.clone();
        if (inward.dot(new Vector3().subVectors(roomCentre, plane.point)) < 0) inward.negate();
        fading.push({ material: mat, outlineMaterial: outline.material, point: plane.point, inward, ...style });
      }
    }
  }

  // ---- helpers: grid, photo frustum ----------------------------------------------------------
  const helpers = [];
  let grid = null;
  let gridBox = floorBox && !floorBox.isEmpty() ? floorBox : null;
  if (!gridBox && !sceneBox.isEmpty()) gridBox = sceneBox.clone().expandByScalar(0.5); // no floor: around the objects
  if (gridBox) {
    grid = makeGrid(gridBox);
    helpers.push(grid);
  }
  const frustum = photoCamera ? makeFrustum(photoCamera, 0.35) : null;
  if (frustum) helpers.push(frustum);
  const photoPosition = photoCamera ? photoCamera.getWorldPosition(new Vector3()) : null;

  return {
    objects: objectInfos,
    photoCamera,
    photoCameraNode,
    sceneBox,
    helpers,
    grid,
    roomNodes: roomParts,
    roomMeshes,
    /**
     * Fades each room surface the camera is outside of, so the user always looks into the room,
     * and hides the photo-camera marker near the photo viewpoint. `fillScale` scales the surfaces'
     * opacity (lower in photo view, where the photo shows through). Each surface material's
     * userData.facing says whether the camera is on its inner side (only those can be measured on).
     */
    updateFading(cameraPosition, fillScale = 1) {
      // The photo-camera marker is hidden when the view stands at (or very near) the photo viewpoint.
      if (frustum) frustum.visible = cameraPosition.distanceTo(photoPosition) > 0.6;
      const d = new Vector3();
      for (const f of fading) {
        const inside = d.subVectors(cameraPosition, f.point).dot(f.inward) >= 0;
        const opacity = (inside ? f.inside : f.outside) * fillScale;
        f.material.opacity = opacity;
        f.material.userData.facing = inside;
        f.material.visible = opacity > 0.001;
        f.outlineMaterial.opacity = inside ? 0.6 : 0.25;
      }
    },
  };
}

function makeGrid(box) {
  const step = 0.5;
  const y = 0.002;
  // Lines on the 0.5 m lattice (1 m lines stronger), clipped to the floor's extent.
  const { x: x0, z: z0 } = box.min;
  const { x: x1, z: z1 } = box.max;
  const minor = [];
  const major = [];
  const isMajor = (k) => k % 2 === 0;
  for (let k = Math.ceil(x0 / step - 1e-6); k * step <= x1 + 1e-6; k++) {
    (isMajor(k) ? major : minor).push(k * step, y, z0, k * step, y, z1);
  }
  for (let k = Math.ceil(z0 / step - 1e-6); k * step <= z1 + 1e-6; k++) {
    (isMajor(k) ? major : minor).push(x0, y, k * step, x1, y, k * step);
  }
  const group = [];
  for (const [verts, opacity] of [[minor, 0.18], [major, 0.35]]) {
    if (!verts.length) continue;
    const geo = new BufferGeometry();
    geo.setAttribute('position', new Float32BufferAttribute(verts, 3));
    const lines = new LineSegments(
      geo,
      new LineBasicMaterial({ color: '#6b7280', transparent: true, opacity, depthWrite: false }),
    );
    lines.renderOrder = RENDER_ORDER.grid;
    group.push(lines);
  }
  const holder = new Group();
  holder.name = 'room3d-grid';
  for (const g of group) holder.add(g);
  return holder;
}

function makeFrustum(cam, depth) {
  const t = Math.tan(((cam.fov || 50) * Math.PI) / 360) * depth;
  const a = cam.aspect || 1;
  const c = [
    [-t * a, -t, -depth], [t * a, -t, -depth], [t * a, t, -depth], [-t * a, t, -depth],
  ];
  const verts = [];
  for (const p of c) verts.push(0, 0, 0, ...p);
  for (let i = 0; i < 4; i++) verts.push(...c[i], ...c[(i + 1) % 4]);
  // a small "up" tick above the top edge
  verts.push(-t * a * 0.3, t, -depth, 0, t * 1.35, -depth, 0, t * 1.35, -depth, t * a * 0.3, t, -depth);
  const geo = new BufferGeometry();
  geo.setAttribute('position', new Float32BufferAttribute(verts, 3));
  const lines = new LineSegments(geo, new LineBasicMaterial({ color: '#111827', transparent: true, opacity: 0.8 }));
  lines.name = 'room3d-photo-frustum';
  cam.updateMatrixWorld(true);
  lines.matrixAutoUpdate = false;
  lines.matrix.copy(cam.matrixWorld);
  lines.matrixWorld.copy(cam.matrixWorld);
  return lines;
}

/**
 * Shows the objects as their furniture shapes (`on`) or as their boxes. Objects without a shape are boxes either
 * way. In shape mode the selected object (`selected`, an info or null) also shows its box, faintly.
 */
export function showShapes(objectInfos, on, selected = null) {
  for (const info of objectInfos) {
    if (!info.shapeMeshes.length) continue;
    for (const mesh of info.shapeMeshes) mesh.material.visible = on; // shared glTF materials: all shapes alike
    for (const box of info.boxMeshes) box.visible = !on || info === selected;
  }
}
