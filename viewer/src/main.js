// room3d viewer: loads the GLB embedded in the page and shows it with three.js.
// Works from file:// with no network access (everything is inline in the page).
import {
  BoxGeometry,
  CircleGeometry,
  DirectionalLight,
  DoubleSide,
  EdgesGeometry,
  Group,
  HemisphereLight,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshBasicMaterial,
  MeshStandardMaterial,
  PerspectiveCamera,
  Plane,
  Raycaster,
  Scene,
  SphereGeometry,
  TorusGeometry,
  Vector2,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { CSS2DRenderer } from 'three/addons/renderers/CSS2DRenderer.js';

import { sceneCode } from './codegen.js';
import { declutter } from './declutter.js';
import { dimensionLines, showDimensions } from './dimensions.js';
import { dressScene, showShapes } from './dress.js';
import { editedGlb, editedSceneJson, editsJson } from './edit.js';
import { isResting, resizedByFace, resizedToFace, snapBox, snappedYaw } from './snap.js';
import { Measure } from './measure.js';
import { fovFromScene, readGlb, readSceneJson } from './payload.js';
import { applyPhotoProjection, photoCamera, photoFov, photoPose, photoRect } from './photo.js';
import { readPointCloud } from './points.js';
import {
  IDS, byId, copyText, downloadBytes, fillInfo, fillObjectList, makeLabel, markListSelection, setActiveButton,
  showSelection, showStatus, viewportElement,
} from './ui.js';
import { NO_INSETS, lookAtQuaternion, makeTween, overviewPose, viewOffsetFor } from './views.js';

const TWEEN_MS = 650;
const TAP_MAX_PX = 6; // a press that moves less than this is a click/tap, not a drag
const PHOTO_FILL_SCALE = 0.12; // room surfaces in photo view: light, so the photo shows through
let failed = false;

function fail(err) {
  if (failed) return;
  failed = true;
  const message = (err && err.message) || String(err || 'unknown error');
  window.room3dError = message;
  showStatus(`Could not show the scene: ${message}`, true);
}

function countLoaded(root) {
  let meshCount = 0;
  root.traverse((o) => {
    if (o.isMesh) meshCount++;
  });
  const objectCount = root.children.filter((n) => n.userData && n.userData.kind === 'object').length;
  return { meshCount, objectCount };
}

async function loadPhotoImage() {
  const img = byId(IDS.photoImg);
  if (!img) return null;
  try {
    await img.decode();
    return img;
  } catch (err) {
    img.remove();
    return null;
  }
}

function on(id, event, handler) {
  const e = byId(id);
  if (e) e.addEventListener(event, handler);
  return e;
}

async function start() {
  showStatus('Loading scene…', false);
  const glb = readGlb();
  const glbBytes = new Uint8Array(glb.slice(0)); // kept for the download button
  const meta = readSceneJson();
  const host = viewportElement();
  const photoImgPromise = loadPhotoImage();

  const renderer = new WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: false });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setClearColor(0x000000, 0);
  renderer.domElement.className = 'room3d-canvas';
  host.appendChild(renderer.domElement);

  const labelRenderer = new CSS2DRenderer();
  labelRenderer.domElement.className = 'room3d-labels';
  labelRenderer.domElement.style.position = 'absolute';
  labelRenderer.domElement.style.inset = '0';
  labelRenderer.domElement.style.pointerEvents = 'none';
  host.appendChild(labelRenderer.domElement);

  let gltf;
  try {
    gltf = await new GLTFLoader().parseAsync(glb, '');
  } catch (err) {
    throw new Error(`The embedded GLB could not be read (${(err && err.message) || err}).`);
  }
  const root = gltf.scene || (gltf.scenes && gltf.scenes[0]);
  if (!root) throw new Error('The GLB contains no scene.');
  const counts = countLoaded(root);

  const dressed = dressScene(root);
  const scene = new Scene();
  scene.add(new HemisphereLight(0xffffff, 0xb8b2a7, 2.2));
  const sun = new DirectionalLight(0xffffff, 1.6);
  sun.position.set(3, 8, 5);
  scene.add(sun);
  scene.add(root);
  for (const h of dressed.helpers) scene.add(h);
  const points = readPointCloud();
  if (points) scene.add(points);
  const dimensions = dimensionLines(meta && meta.room);
  scene.add(dimensions);
  const photoImg = await photoImgPromise;

  // Labels sit on the top face of each box (local +0.5 of the unit cube, so they follow the scale).
  const labelItems = dressed.objects.map((info) => {
    const label = makeLabel(info);
    label.position.set(0, 0.5, 0);
    info.node.add(label);
    return { label, info, priority: 0 };
  });
  const records = new Map();
  for (const o of Array.isArray(meta.objects) ? meta.objects : []) {
    if (o && typeof o.name === 'string') records.set(o.name, o);
  }
  const byName = new Map(dressed.objects.map((info) => [info.name, info]));
  const meshToInfo = new Map();
  for (const info of dressed.objects) {
    info.node.traverse((m) => {
      if (m.isMesh) meshToInfo.set(m, info);
    });
  }
  // picking hits an object's box (drawn or not), so a click anywhere in it selects it in either mode
  const objectMeshes = dressed.objects.flatMap((info) => info.boxMeshes);

  // ---- camera, controls, views -------------------------------------------------------------
  const camera = new PerspectiveCamera(45, 1, 0.05, 500);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;
  controls.dampingFactor = 0.12;
  controls.screenSpacePanning = true;

  const fov = fovFromScene(meta);
  const photo = photoCamera(meta, dressed.photoCamera);
  const framingBox = dressed.sceneBox.clone();
  if (photo) framingBox.expandByPoint(new Vector3().setFromMatrixPosition(photo.matrixWorld));

  let view = 'overview';
  let tween = null;
  let tweenGoal = null;
  let photoLocked = false; // in photo view the camera keeps the exact photo pose and projection
  let needsRender = true;
  let width = 1;
  let height = 1;
  let insets = NO_INSETS;
  let photoOpacity = 1;
  const hasShapes = dressed.objects.some((info) => info.shapeMeshes.length > 0);
  const layers = {
    room: true, labels: true, points: !!points, objects: true, grid: true, dimensions: false, shapes: hasShapes,
  };
  let shapesChosen = false; // the user (or a script) chose boxes or shapes: views no longer switch them
  const shapesToggle = byId(IDS.showShapes);
  if (shapesToggle && !hasShapes) shapesToggle.closest('label').hidden = true; // every object is a box
  let selected = null;
  // 1: projection centre moved to the middle of the area not covered by the UI; 0: none.
  const state = { offsetWeight: 1 };

  /** Parts of the viewport covered by the top bar and the object panel (CSS px). */
  function measureInsets() {
    const hr = host.getBoundingClientRect();
    const out = { left: 12, top: 12, right: 12, bottom: 12 };
    const bar = byId(IDS.topbar);
    if (bar) {
      const r = bar.getBoundingClientRect();
      if (r.width > hr.width * 0.5 && r.bottom - hr.top < hr.height * 0.3) out.top = Math.max(out.top, r.bottom - hr.top + 8);
    }
    const panel = byId(IDS.panel);
    if (panel) {
      const r = panel.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && r.left - hr.left > hr.width * 0.5) {
        out.right = Math.max(out.right, hr.right - r.left + 8);
      } else if (r.width > hr.width * 0.6 && r.top - hr.top > hr.height * 0.4) {
        out.bottom = Math.max(out.bottom, hr.bottom - r.top + 8); // bottom sheet (narrow screens)
      }
    }
    return out;
  }

  const inPhotoView = () => view === 'photo' && photoLocked && !tween;

  function applyProjection() {
    if (inPhotoView()) {
      applyPhotoProjection(camera, photo, width, height);
      return;
    }
    camera.aspect = width / height;
    const w = state.offsetWeight;
    if (w > 0.001) {
      const [ox, oy] = viewOffsetFor(width, height, insets);
      camera.setViewOffset(width, height, ox * w, oy * w, width, height);
    } else {
      if (camera.view && camera.view.enabled) camera.clearViewOffset();
      camera.updateProjectionMatrix();
    }
  }

  /** The photo (behind the transparent canvas) and its frame, placed on the photo's rectangle. */
  function placePhoto() {
    const show = inPhotoView();
    const frame = byId(IDS.photoFrame);
    const bar = byId(IDS.photoBar);
    if (bar) bar.hidden = !(show && photoImg);
    const r = photo ? photoRect(photo, width, height) : null;
    for (const e of [frame, photoImg]) {
      if (!e) continue;
      e.hidden = !show;
      if (show) {
        e.style.left = `${r.left}px`;
        e.style.top = `${r.top}px`;
        e.style.width = `${r.width}px`;
        e.style.height = `${r.height}px`;
      }
    }
    if (photoImg) photoImg.style.opacity = String(photoOpacity);
  }

  function poseFor(name) {
    if (name === 'photo' && photo) {
      const p = photoPose(photo, dressed.sceneBox);
      return {
        name: 'photo',
        position: p.position,
        quaternion: p.quaternion,
        target: p.target,
        fov: photoFov(photo, width, height),
        near: 0.02,
        far: Math.max(100, p.distance * 50),
        offsetWeight: 0,
      };
    }
    return overviewPose(framingBox, width, height, insets);
  }

  function stopControlsMotion() {
    if (controls._sphericalDelta) controls._sphericalDelta.set(0, 0, 0);
    if (controls._panOffset) controls._panOffset.set(0, 0, 0);
    if (typeof controls._scale === 'number') controls._scale = 1;
  }

  function finishView(name, goal) {
    tween = null;
    tweenGoal = null;
    camera.position.copy(goal.position);
    camera.quaternion.copy(goal.quaternion);
    controls.target.copy(goal.target);
    camera.fov = goal.fov;
    camera.near = goal.near;
    camera.far = goal.far;
    state.offsetWeight = goal.offsetWeight;
    photoLocked = name === 'photo';
    applyProjection();
    if (!photoLocked) controls.update();
    placePhoto();
    needsRender = true;
  }

  function moveTo(name, goal, animate) {
    stopControlsMotion();
    view = name;
    setActiveButton(name);
    photoLocked = false;
    placePhoto();
    const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (!animate || reduce) {
      finishView(name, goal);
      return;
    }
    photoLocked = true; // controls stay out of the way during the move
    camera.aspect = width / height;
    const step = makeTween(camera, controls, state, goal, TWEEN_MS);
    tweenGoal = { name, goal };
    tween = (now) => {
      if (step(now)) finishView(name, goal);
    };
    needsRender = true;
  }

  function setView(name, animate = true) {
    if (name === 'photo' && !photo) return false;
    if (name !== 'photo') name = 'overview';
    if (!shapesChosen && hasShapes) applyLayer('shapes', name !== 'photo'); // shapes overview, boxes on the photo
    moveTo(name, poseFor(name), animate);
    return true;
  }

  function focusObject(info) {
    const dir = camera.position.clone().sub(controls.target).normalize();
    const extent = Math.max(...info.size, 0.3);
    const target = info.node.getWorldPosition(new Vector3());
    const position = target.clone().addScaledVector(dir, Math.max(1.2, extent * 2.8));
    const goal = overviewPose(framingBox, width, height, insets);
    Object.assign(goal, { position, target, quaternion: lookAtQuaternion(position, target) });
    moveTo('free', goal, true);
  }

  let userMoving = false;
  controls.addEventListener('start', () => {
    userMoving = true;
    // The user takes over during a move: finish it at once.
    if (tweenGoal) finishView(tweenGoal.name, tweenGoal.goal);
  });
  controls.addEventListener('end', () => {
    userMoving = false;
  });
  controls.addEventListener('change', () => {
    needsRender = true;
    if (photoLocked && !tween) {
      // The user moved the camera: leave the exact photo pose and projection.
      photoLocked = false;
      view = 'free';
      setActiveButton(view);
      applyProjection();
      placePhoto();
    } else if (userMoving && view !== 'free') {
      view = 'free';
      setActiveButton(view);
    }
  });

  function resize() {
    width = Math.max(1, host.clientWidth);
    height = Math.max(1, host.clientHeight);
    renderer.setSize(width, height, false);
    renderer.domElement.style.width = '100%';
    renderer.domElement.style.height = '100%';
    labelRenderer.setSize(width, height);
    insets = measureInsets();
    for (const item of labelItems) item.w = 0; // re-measure label sizes
    applyProjection();
    placePhoto();
    needsRender = true;
  }
  window.addEventListener('resize', resize);
  resize();
  setView('overview', false);

  // ---- selection -----------------------------------------------------------------------------
  function select(info, { focus = false } = {}) {
    if (selected === info && !focus) return;
    if (selected) setHighlight(selected, false);
    selected = info || null;
    if (selected) setHighlight(selected, true);
    if (hasShapes) showShapes(dressed.objects, layers.shapes, selected);
    showSelection(selected, selected ? records.get(selected.name) || null : null);
    markListSelection(selected ? selected.name : null);
    if (selected && focus) focusObject(selected);
    const rename = byId(IDS.selRename);
    if (rename && selected) rename.value = selected.label;
    placeHandles();
    needsRender = true;
  }

  function setHighlight(info, onOff) {
    const faint = layers.shapes && info.shapeMeshes.length > 0; // a shape shows through its selected box
    for (const m of info.materials) m.opacity = onOff ? (faint ? 0.12 : 0.62) : 0.3;
    labelItems[info.index].label.element.classList.toggle('active', onOff);
  }

  // ---- picking: clicks/taps select, or measure -------------------------------------------------
  const raycaster = new Raycaster();
  const ndc = new Vector2();

  function rayAt(x, y) {
    const r = renderer.domElement.getBoundingClientRect();
    ndc.set(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
    raycaster.setFromCamera(ndc, camera);
  }

  function pickObject(x, y) {
    if (!layers.objects) return null;
    rayAt(x, y);
    const hit = raycaster.intersectObjects(objectMeshes, false)[0];
    return hit ? { info: meshToInfo.get(hit.object), point: hit.point } : null;
  }

  /** The first surface under (x, y) (client px): an object box or a room surface facing the camera. */
  function pickSurface(x, y) {
    rayAt(x, y);
    const targets = layers.objects ? objectMeshes.slice() : [];
    if (layers.room) {
      for (const { mesh } of dressed.roomMeshes) if (mesh.material.userData.facing) targets.push(mesh);
    }
    const hit = raycaster.intersectObjects(targets, false)[0];
    if (!hit) return null;
    return { point: hit.point.clone(), info: meshToInfo.get(hit.object) || null, surface: hit.object };
  }

  const measure = new Measure(scene, byId(IDS.measureReadout));
  function setMeasuring(onOff) {
    measure.setActive(onOff);
    document.body.classList.toggle('measuring', onOff);
    const b = byId(IDS.measure);
    if (b) b.setAttribute('aria-pressed', String(onOff));
    placeHandles();
    needsRender = true;
  }

  function tap(x, y) {
    if (measure.active) {
      const hit = pickSurface(x, y);
      if (hit) measure.add(hit.point);
      needsRender = true;
      return;
    }
    const hit = pickObject(x, y);
    select(hit ? hit.info : null);
  }

  let press = null;
  renderer.domElement.addEventListener('pointerdown', (e) => {
    press = e.isPrimary ? { x: e.clientX, y: e.clientY, id: e.pointerId, moved: false } : null;
  });
  renderer.domElement.addEventListener('pointermove', (e) => {
    if (press && e.pointerId === press.id && Math.hypot(e.clientX - press.x, e.clientY - press.y) > TAP_MAX_PX) {
      press.moved = true;
    }
  });
  renderer.domElement.addEventListener('pointerup', (e) => {
    if (press && e.pointerId === press.id && !press.moved && e.button <= 0) tap(e.clientX, e.clientY);
    press = null;
  });

  // ---- editing with the mouse: drag the selected object to move it (it snaps to the floor, to the tops of
  // others and to walls; Alt: no snapping), a face's dot to resize it (the face lands on a wall or the floor within
  // reach), the ring to turn it; one undoable edit each
  const walls = (meta.room && Array.isArray(meta.room.walls)) ? meta.room.walls : [];
  const roomYaw = (meta.camera && Number.isFinite(meta.camera.room_yaw_rad)) ? meta.camera.room_yaw_rad : 0;
  const handleGroup = new Group();
  handleGroup.name = 'edit-handles';
  handleGroup.visible = false;
  scene.add(handleGroup);
  const handleMaterial = (color) => new MeshBasicMaterial({ color, depthTest: false, transparent: true, opacity: 0.9 });
  const handles = [
    ...[[0, 1], [0, -1], [1, 1], [2, 1], [2, -1]].map(([axis, sign]) => {
      const mesh = new Mesh(new SphereGeometry(1, 16, 12), handleMaterial('#2563eb'));
      mesh.userData = { handle: 'face', axis, sign };
      return mesh;
    }),
    ...[new TorusGeometry(1, 0.28, 8, 32), new CircleGeometry(1, 32)].map((geometry, k) => { // a ring, and a disc
      const mesh = new Mesh(geometry, handleMaterial('#ea580c')); //                        to grab it by its middle
      if (k === 1) Object.assign(mesh.material, { opacity: 0.25, side: DoubleSide });
      mesh.userData = { handle: 'turn' };
      return mesh;
    }),
  ];
  for (const h of handles) {
    h.renderOrder = 10;
    handleGroup.add(h);
  }
  const HANDLE_NAMES = { '0,1': 'right', '0,-1': 'left', '1,1': 'top', '2,1': 'front', '2,-1': 'back' };
  /** Local point of each handle on a box (the ring: on the floor in front of it, a turntable). */
  function handleLocal(h, size) {
    if (h.userData.handle === 'turn') return [0, -size[1] / 2 + 0.02, size[2] / 2 + 0.22];
    const p = [0, 0, 0];
    p[h.userData.axis] = (h.userData.sign * size[h.userData.axis]) / 2;
    return p;
  }
  function placeHandles(box = null) {
    const entry = selected ? entryOf(selected.name) : null;
    handleGroup.visible = !!(entry && layers.objects && !measure.active);
    if (!handleGroup.visible) return;
    const b = box || entry;
    const r = Math.min(0.07, 0.03 + 0.02 * Math.max(...b.size));
    const c = Math.cos(b.yaw);
    const sn = Math.sin(b.yaw);
    for (const h of handles) {
      const [x, y, z] = handleLocal(h, b.size);
      h.position.set(b.center[0] + c * x + sn * z, b.center[1] + y, b.center[2] - sn * x + c * z);
      h.scale.setScalar(h.userData.handle === 'turn' ? 1.6 * r : r);
      if (h.userData.handle === 'turn') h.rotation.set(Math.PI / 2, 0, 0);
    }
    needsRender = true;
  }
  function pickHandle(x, y) {
    if (!handleGroup.visible) return null;
    rayAt(x, y);
    const hit = raycaster.intersectObjects(handles, false)[0];
    return hit ? hit.object : null;
  }
  /** The boxes other than `name` (not removed): what a moved box may stand on. */
  const othersOf = (name) => editState.objects.concat(editState.added).filter((e) => !e.removed && e.name !== name);
  function preview(info, box) {
    info.node.position.fromArray(box.center);
    info.node.quaternion.setFromAxisAngle(UP, box.yaw);
    info.node.scale.fromArray(box.size);
    placeHandles(box);
  }

  let drag = null;
  const dragPlane = new Plane();
  const dragPoint = new Vector3();
  renderer.domElement.parentElement.addEventListener('pointerdown', (e) => {
    if (!e.isPrimary || e.button > 0 || measure.active || !selected || !layers.objects) return;
    const entry = entryOf(selected.name);
    if (!entry) return;
    const handle = pickHandle(e.clientX, e.clientY);
    let start = null;
    if (handle) {
      start = handle.position.clone();
      if (handle.userData.handle === 'face' && handle.userData.axis === 1) { // the top: up and down, facing us
        const toward = new Vector3().subVectors(camera.position, start).setY(0);
        if (toward.lengthSq() < 1e-9) toward.set(0, 0, 1);
        dragPlane.setFromNormalAndCoplanarPoint(toward.normalize(), start);
      } else dragPlane.set(new Vector3(0, 1, 0), -start.y);
    } else {
      const hit = pickObject(e.clientX, e.clientY);
      if (!hit || hit.info !== selected) return;
      start = hit.point.clone();
      dragPlane.set(new Vector3(0, 1, 0), -start.y);
    }
    controls.enabled = false; // capture phase: before the orbit controls see the press
    const box = { center: entry.center.slice(), size: entry.size.slice(), yaw: entry.yaw };
    drag = { id: e.pointerId, info: selected, handle, start, box, result: null,
      resting: isResting(box, othersOf(entry.name)) };
  }, { capture: true });
  window.addEventListener('pointermove', (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    rayAt(e.clientX, e.clientY);
    if (!raycaster.ray.intersectPlane(dragPlane, dragPoint)) return;
    const { box, handle } = drag;
    const others = othersOf(drag.info.name);
    let result;
    if (!handle) { // move along the floor
      const center = [box.center[0] + dragPoint.x - drag.start.x, box.center[1], box.center[2] + dragPoint.z - drag.start.z];
      result = { ...box, center };
      if (!e.altKey) result.center = snapBox(result, others, walls, drag.resting).center;
    } else if (handle.userData.handle === 'turn') {
      const yaw = Math.atan2(dragPoint.x - box.center[0], dragPoint.z - box.center[2]);
      result = { ...box, yaw: e.altKey ? yaw : snappedYaw(yaw, roomYaw) };
    } else { // a face: out or in along its normal
      const { axis, sign } = handle.userData;
      const local = [0, 0, 0];
      local[axis] = sign;
      const normal = new Vector3(local[0], local[1], local[2]).applyAxisAngle(UP, box.yaw);
      const amount = new Vector3().subVectors(dragPoint, drag.start).dot(normal);
      result = e.altKey ? resizedByFace(box, axis, sign, amount) : resizedToFace(box, axis, sign, amount, walls).box;
    }
    drag.result = result;
    preview(drag.info, result);
    needsRender = true;
  });
  const endDrag = (e, keep) => {
    if (!drag || e.pointerId !== drag.id) return;
    const { info, box, result } = drag;
    drag = null;
    controls.enabled = true;
    preview(info, box);
    if (keep && result) editing.place(info.name, result);
    needsRender = true;
  };
  window.addEventListener('pointerup', (e) => endDrag(e, true));
  window.addEventListener('pointercancel', (e) => endDrag(e, false)); // a touch taken over: nothing changes

  // ---- UI ----------------------------------------------------------------------------------
  on(IDS.overview, 'click', () => setView('overview'));
  const bPhoto = byId(IDS.photo);
  if (bPhoto) {
    if (photo) bPhoto.addEventListener('click', () => setView('photo'));
    else {
      bPhoto.disabled = true;
      bPhoto.title = 'This scene has no photo camera';
    }
  }
  const opacityInput = on(IDS.photoOpacity, 'input', (e) => setPhotoOpacity(Number(e.target.value) / 100));
  if (opacityInput) photoOpacity = Number(opacityInput.value) / 100;
  function setPhotoOpacity(v) {
    photoOpacity = Math.min(1, Math.max(0, Number(v) || 0));
    if (opacityInput) opacityInput.value = String(Math.round(photoOpacity * 100));
    placePhoto();
  }

  function setLayer(name, visible) {
    if (name === 'shapes') shapesChosen = true;
    return applyLayer(name, visible);
  }

  function applyLayer(name, visible) {
    if (!(name in layers)) return false;
    if (name === 'points' && !points) return false;
    layers[name] = !!visible;
    if (name === 'room') {
      for (const n of dressed.roomNodes) n.visible = layers.room;
      if (dressed.grid) dressed.grid.visible = layers.room && layers.grid;
    } else if (name === 'grid' && dressed.grid) dressed.grid.visible = layers.room && layers.grid;
    else if (name === 'labels') for (const item of labelItems) item.label.visible = layers.labels;
    else if (name === 'points') points.visible = layers.points;
    else if (name === 'objects') {
      for (const info of dressed.objects) info.node.visible = layers.objects && !info.node.userData.removed;
      placeHandles();
    }
    else if (name === 'dimensions') showDimensions(dimensions, layers.dimensions);
    else if (name === 'shapes') {
      showShapes(dressed.objects, layers.shapes, selected);
      if (selected) setHighlight(selected, true);
    }
    const box = byId({
      room: IDS.showRoom, labels: IDS.showLabels, points: IDS.showPoints, dimensions: IDS.showDimensions,
      shapes: IDS.showShapes,
    }[name]);
    if (box) box.checked = layers[name];
    needsRender = true;
    return true;
  }
  on(IDS.showRoom, 'change', (e) => setLayer('room', e.target.checked));
  on(IDS.showLabels, 'change', (e) => setLayer('labels', e.target.checked));
  on(IDS.showPoints, 'change', (e) => setLayer('points', e.target.checked));
  on(IDS.showDimensions, 'change', (e) => setLayer('dimensions', e.target.checked));
  on(IDS.showShapes, 'change', (e) => setLayer('shapes', e.target.checked));
  const pointsToggle = byId(IDS.showPointsLabel);
  if (pointsToggle) pointsToggle.hidden = !points;

  on(IDS.measure, 'click', () => setMeasuring(!measure.active));
  on(IDS.selClose, 'click', () => select(null));

  const hasMeta = meta && !meta._unreadable && Object.keys(meta).length > 0;
  // the downloads give the edited scene once it was edited (the badge says so)
  on(IDS.glb, 'click', () => downloadBytes(editing.edited ? new Uint8Array(editing.exportGLB()) : glbBytes,
    'model/gltf-binary', 'scene.glb'));
  const bJson = on(IDS.json, 'click', () => {
    const data = editing.edited ? editing.exportJSON() : meta;
    downloadBytes(new TextEncoder().encode(`${JSON.stringify(data, null, 1)}\n`), 'application/json', 'scene.json');
  });
  if (bJson && !hasMeta) bJson.disabled = true;
  on(IDS.edits, 'click', () => downloadBytes(
    new TextEncoder().encode(`${JSON.stringify(editing.exportEdits(), null, 1)}\n`), 'application/json', 'edits.json'));
  on(IDS.add, 'click', () => { // a half-metre box on the floor where the middle of the view meets it
    const r = renderer.domElement.getBoundingClientRect();
    rayAt(r.left + r.width / 2, r.top + r.height / 2);
    const at = new Vector3();
    if (!raycaster.ray.intersectPlane(new Plane(new Vector3(0, 1, 0), 0), at)) at.set(0, 0, 0);
    const name = editing.add('object', [at.x, 0.25, at.z], [0.5, 0.5, 0.5], roomYaw);
    if (name) {
      select(byName.get(name));
      const field = byId(IDS.selRename);
      if (field) {
        field.focus();
        field.select();
      }
    }
  });
  const renameField = byId(IDS.selRename);
  if (renameField) {
    renameField.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && selected) {
        editing.rename(selected.name, renameField.value);
        renameField.blur();
      } else if (e.key === 'Escape') {
        renameField.value = selected ? selected.label : '';
        renameField.blur();
      }
    });
  }
  on(IDS.selTurn, 'click', () => selected && editing.rotate(selected.name, Math.PI / 2));
  on(IDS.selDelete, 'click', () => selected && editing.remove(selected.name));

  let code = null;
  const getCode = () => {
    if (code === null) {
      const title = byId('room3d-title') ? byId('room3d-title').textContent : document.title;
      code = sceneCode(dressed.objects, meta.room, title);
    }
    return code;
  };
  const dialog = byId(IDS.codeDialog);
  on(IDS.code, 'click', () => {
    byId(IDS.codeText).textContent = getCode();
    if (dialog && dialog.showModal) dialog.showModal();
  });
  on(IDS.codeClose, 'click', () => dialog && dialog.close());
  const planDialog = byId(IDS.planDialog); // the floor plan, when the page was built with one
  on(IDS.plan, 'click', () => planDialog && planDialog.showModal && planDialog.showModal());
  on(IDS.planClose, 'click', () => planDialog && planDialog.close());
  on(IDS.codeCopy, 'click', async (e) => {
    const button = e.currentTarget;
    const ok = await copyText(getCode(), byId(IDS.codeText));
    button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 1500);
  });

  window.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (dialog && dialog.open) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && ['z', 'Z', 'y', 'Y'].includes(e.key)) {
      if (e.key === 'y' || e.key === 'Y' || e.shiftKey) editing.redo();
      else editing.undo();
      e.preventDefault();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (selected && (e.key === 'r' || e.key === 'R')) { // a quarter turn, back with Shift
      editing.rotate(selected.name, e.shiftKey ? -Math.PI / 2 : Math.PI / 2);
      return;
    }
    if (selected && (e.key === 'Delete' || e.key === 'Backspace')) {
      editing.remove(selected.name);
      return;
    }
    if (e.key === 'o' || e.key === 'O') setView('overview');
    else if (e.key === 'p' || e.key === 'P') setView('photo');
    else if (e.key === 'm' || e.key === 'M') setMeasuring(!measure.active);
    else if (e.key === 'Escape') {
      if (measure.active) setMeasuring(false);
      else select(null);
    }
  });

  fillInfo(
    counts.objectCount,
    fov || (dressed.photoCamera ? { v: (dressed.photoCamera.fov * Math.PI) / 180 } : null),
    !!meta._unreadable,
    meta.room && meta.room.dimensions,
  );
  // ---- editing: move, turn, resize, rename, remove, add; undo and redo; kept in the browser -----------
  const UP = new Vector3(0, 1, 0);
  const yawOf = (node) => 2 * Math.atan2(node.quaternion.y, node.quaternion.w);
  const editState = {
    objects: dressed.objects.map((info, index) => ({
      index, name: info.name, label: info.label, center: info.node.position.toArray(), size: info.node.scale.toArray(),
      yaw: yawOf(info.node), removed: false,
    })),
    added: [],
  };
  const original = JSON.stringify(editState);
  const undoStack = [];
  const redoStack = [];
  const storageKey = `room3d-edits:${(meta.inputs && meta.inputs.photo_sha256) || document.title}`;
  const entryOf = (name) => editState.objects.concat(editState.added).find((e) => e.name === name && !e.removed);
  const isVector = (v, n) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

  function addedNode(entry) {
    const info = byName.get(entry.name);
    if (info) return info;
    const node = new Group();
    node.name = entry.name;
    node.userData = { kind: 'object', name: entry.name, label: entry.label, added: true };
    const mat = new MeshStandardMaterial({ color: '#7f8c8d', transparent: true, opacity: 0.3, depthWrite: false, side: DoubleSide });
    const box = new Mesh(new BoxGeometry(1, 1, 1), mat);
    box.add(new LineSegments(new EdgesGeometry(box.geometry), new LineBasicMaterial({ color: '#4d5656' })));
    node.add(box);
    root.add(node);
    const made = {
      node, index: labelItems.length, name: entry.name, label: entry.label, category: entry.label, colour: '#7f8c8d',
      size: entry.size.slice(), centre: new Vector3(), materials: [mat], boxMeshes: [box], shapeMeshes: [], confidence: null,
    };
    const label = makeLabel(made);
    label.position.set(0, 0.5, 0);
    node.add(label);
    labelItems.push({ label, info: made, priority: 0 });
    dressed.objects.push(made);
    byName.set(made.name, made);
    meshToInfo.set(box, made);
    objectMeshes.push(box);
    return made;
  }

  function applyEdits() {
    for (const entry of editState.objects.concat(editState.added)) {
      const info = byName.get(entry.name) || addedNode(entry);
      info.node.position.fromArray(entry.center);
      info.node.quaternion.setFromAxisAngle(UP, entry.yaw);
      info.node.scale.fromArray(entry.size);
      info.node.visible = !entry.removed && layers.objects;
      info.node.userData.removed = entry.removed;
      info.size = entry.size.slice();
      if (info.label !== entry.label) {
        info.label = entry.label;
        const item = labelItems[info.index];
        info.node.remove(item.label);
        item.label = makeLabel(info);
        item.label.position.set(0, 0.5, 0);
        info.node.add(item.label);
      }
      labelItems[info.index].label.visible = !entry.removed && layers.labels;
    }
    if (selected && selected.node.userData.removed) select(null);
    placeHandles();
    const edited = JSON.stringify(editState) !== original;
    const badge = byId('room3d-edited');
    if (badge) badge.hidden = !edited;
    const editsButton = byId(IDS.edits);
    if (editsButton) editsButton.hidden = !edited;
    try {
      if (edited) localStorage.setItem(storageKey, JSON.stringify(editState));
      else localStorage.removeItem(storageKey);
    } catch (err) {
      // storage refused (a private window, file:// in some browsers): the edits live as long as the page
    }
    needsRender = true;
  }

  function restore(text) {
    const saved = JSON.parse(text);
    editState.objects.forEach((entry, i) => Object.assign(entry, saved.objects[i] || {}));
    editState.added = Array.isArray(saved.added) ? saved.added : [];
  }

  /** One edit: `change` mutates the state; false (nothing changed) when it returns false. */
  function edit(change) {
    const before = JSON.stringify(editState);
    if (change() === false) return false;
    undoStack.push(before);
    redoStack.length = 0;
    applyEdits();
    return true;
  }

  /** Back (or forth) one edit: the state on top of `from` comes back, the current one goes onto `to`. */
  function step(from, to) {
    if (!from.length) return false;
    to.push(JSON.stringify(editState));
    restore(from.pop());
    applyEdits();
    return true;
  }

  try {
    const saved = localStorage.getItem(storageKey);
    if (saved) {
      restore(saved);
      applyEdits();
    }
  } catch (err) {
    // nothing kept, or not readable: the solved scene
  }

  const editing = {
    move(name, delta) {
      const entry = entryOf(name);
      if (!entry || !isVector(delta, 3)) return false;
      return edit(() => { entry.center = entry.center.map((v, i) => v + delta[i]); });
    },
    rotate(name, radians) {
      const entry = entryOf(name);
      if (!entry || typeof radians !== 'number' || !Number.isFinite(radians)) return false;
      return edit(() => { entry.yaw = Math.atan2(Math.sin(entry.yaw + radians), Math.cos(entry.yaw + radians)); });
    },
    /** One edit that sets the box (centre, size, yaw) of `name`: what a mouse drag leaves. */
    place(name, box) {
      const entry = entryOf(name);
      if (!entry || !box || !isVector(box.center, 3) || !isVector(box.size, 3) || !box.size.every((v) => v > 0 && v < 100)
          || typeof box.yaw !== 'number' || !Number.isFinite(box.yaw)) return false;
      const same = JSON.stringify([entry.center, entry.size, entry.yaw]) === JSON.stringify([box.center, box.size, box.yaw]);
      if (same) return false;
      return edit(() => {
        entry.center = box.center.slice();
        entry.size = box.size.slice();
        entry.yaw = Math.atan2(Math.sin(box.yaw), Math.cos(box.yaw));
      });
    },
    resize(name, size) {
      const entry = entryOf(name);
      if (!entry || !isVector(size, 3) || !size.every((v) => v > 0 && v < 100)) return false;
      return edit(() => { entry.size = size.slice(); });
    },
    rename(name, label) {
      const entry = entryOf(name);
      const text = String(label ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 120);
      if (!entry || !text) return false;
      return edit(() => { entry.label = text; });
    },
    remove(name) {
      const entry = entryOf(name);
      if (!entry) return false;
      return edit(() => { entry.removed = true; });
    },
    add(label, center, size, yaw = 0) {
      const text = String(label ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 120);
      if (!text || !isVector(center, 3) || !isVector(size, 3) || !size.every((v) => v > 0 && v < 100)
          || typeof yaw !== 'number' || !Number.isFinite(yaw)) return null;
      const taken = new Set(editState.objects.concat(editState.added).map((e) => e.name));
      let name = text;
      for (let k = 1; taken.has(name); k++) name = `${text}.${String(k).padStart(3, '0')}`;
      edit(() => { editState.added.push({ name, label: text, center: center.slice(), size: size.slice(), yaw, removed: false }); });
      return name;
    },
    undo: () => step(undoStack, redoStack),
    redo: () => step(redoStack, undoStack),
    get edited() {
      return JSON.stringify(editState) !== original;
    },
    exportGLB: () => editedGlb(glbBytes, editState).buffer,
    exportJSON: () => editedSceneJson(meta, editState),
    exportEdits: () => editsJson(meta, editState, JSON.parse(original)),
  };

  fillObjectList(dressed.objects, {
    onHover(info, hover) {
      if (info !== selected) for (const m of info.materials) m.opacity = hover ? 0.6 : 0.3;
      labelItems[info.index].label.element.classList.toggle('active', hover || info === selected);
      needsRender = true;
    },
    onClick: (info) => select(info, { focus: true }),
  });

  // ---- the page's API (tests, embedding) -------------------------------------------------------
  const tmp = new Vector3();
  /** Client px of a world point in the current view. */
  function project(p) {
    tmp.set(p[0], p[1], p[2]).project(camera);
    const r = renderer.domElement.getBoundingClientRect();
    return [r.left + ((tmp.x + 1) / 2) * r.width, r.top + ((1 - tmp.y) / 2) * r.height];
  }
  /** A client-px point where a click hits the object `name` (its centre, or a face centre), or null. */
  function clickPoint(name) {
    const info = byName.get(name);
    if (!info) return null;
    info.node.updateMatrixWorld(true);
    const local = [[0, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0, 0, -0.5], [0.5, 0, 0], [-0.5, 0, 0], [0, 0.25, 0.5], [0, 0.25, -0.5]];
    for (const l of local) {
      const w = new Vector3(l[0] * 0.9, l[1] * 0.9, l[2] * 0.9).applyMatrix4(info.node.matrixWorld);
      const [x, y] = project([w.x, w.y, w.z]);
      if (x < 0 || y < 0 || x > width || y > height) continue;
      const hit = pickObject(x, y);
      if (hit && hit.info === info && document.elementFromPoint(x, y) === renderer.domElement) return [x, y];
    }
    return null;
  }

  window.room3d = {
    objectCount: counts.objectCount,
    meshCount: counts.meshCount,
    shapeCount: dressed.objects.filter((o) => o.shapeMeshes.length > 0).length, // objects with a furniture shape
    labels: dressed.objects.map((o) => o.label),
    names: dressed.objects.map((o) => o.name),
    /** The objects as they are now (after edits): name, label, category, centre, size and yaw. */
    get objects() {
      return editState.objects.concat(editState.added).filter((e) => !e.removed).map((e) => {
        const info = byName.get(e.name);
        return { name: e.name, label: e.label, category: info ? info.category : e.label, center: e.center.slice(),
          size: e.size.slice(), yaw: e.yaw };
      });
    },
    move: editing.move,
    rotate: editing.rotate,
    resize: editing.resize,
    rename: editing.rename,
    remove: editing.remove,
    add: editing.add,
    undo: editing.undo,
    redo: editing.redo,
    get edited() {
      return editing.edited;
    },
    exportGLB: editing.exportGLB,
    exportJSON: editing.exportJSON,
    /** edits.json for `room3d build PHOTO --edits edits.json` (what the Edits button saves). */
    exportEdits: editing.exportEdits,
    place: editing.place,
    /** Client px of a handle of the selected object: right, left, top, front, back (faces) or turn; or null. */
    handlePoint(which) {
      placeHandles();
      const h = handles.find((m) => (m.userData.handle === 'turn' ? 'turn' : HANDLE_NAMES[`${m.userData.axis},${m.userData.sign}`]) === which);
      if (!h || !handleGroup.visible) return null;
      return project(h.position.toArray());
    },
    hasPhotoCamera: !!photo,
    hasPhoto: !!photoImg,
    pointCount: points ? points.geometry.getAttribute('position').count : 0,
    get view() {
      return view;
    },
    setView: (name, animate = false) => setView(name, animate),
    photoView: (animate = false) => setView('photo', animate),
    photoRect: () => (photo ? photoRect(photo, width, height) : null),
    setPhotoOpacity,
    get layers() {
      return { ...layers };
    },
    setLayer,
    /** A promise resolved once a frame with every change made so far has been drawn. */
    nextFrame() {
      needsRender = true;
      return new Promise((resolve) => frameWaiters.push(resolve));
    },
    setObjectVisible(name, visible) {
      const info = byName.get(name);
      if (!info) return false;
      info.node.visible = !!visible;
      needsRender = true;
      return true;
    },
    select(name) {
      const info = byName.get(name);
      if (name !== null && !info) return false;
      select(info || null);
      return true;
    },
    get selection() {
      if (!selected) return null;
      const card = byId(IDS.selection);
      return { name: selected.name, label: selected.label, size: selected.size.slice(), text: card ? card.innerText : '' };
    },
    project,
    clickPoint,
    pick(x, y) {
      const hit = pickSurface(x, y);
      return hit ? { point: hit.point.toArray(), name: hit.info ? hit.info.name : hit.surface.userData.name || hit.surface.name } : null;
    },
    setMeasuring,
    get measurement() {
      return measure.result();
    },
    code: getCode,
    /** World bounds of each object's box and each room surface: what the code view rebuilds. */
    meshBoxes() {
      const out = [];
      root.updateMatrixWorld(true);
      const add = (o) => {
        if (!o.geometry.boundingBox) o.geometry.computeBoundingBox();
        const b = o.geometry.boundingBox.clone().applyMatrix4(o.matrixWorld);
        out.push({ min: b.min.toArray(), max: b.max.toArray() });
      };
      for (const info of dressed.objects) for (const m of info.boxMeshes) add(m);
      for (const node of dressed.roomNodes) {
        node.traverse((o) => {
          if (o.isMesh) add(o);
        });
      }
      return out;
    },
  };

  // ---- render loop -------------------------------------------------------------------------
  const camPos = new Vector3();
  let frameWaiters = [];
  function render() {
    camera.getWorldPosition(camPos);
    dressed.updateFading(camPos, inPhotoView() ? PHOTO_FILL_SCALE : 1);
    applyProjection();
    measure.update(camera);
    if (inPhotoView()) {
      // draw only inside the photo's rectangle
      const r = photoRect(photo, width, height);
      renderer.setScissorTest(false);
      renderer.clear();
      renderer.setScissor(r.left, height - r.top - r.height, r.width, r.height);
      renderer.setScissorTest(true);
    } else {
      renderer.setScissorTest(false);
    }
    renderer.render(scene, camera);
    labelRenderer.render(scene, camera);
    if (layers.labels) {
      for (const item of labelItems) {
        const d = Math.max(0.3, camPos.distanceTo(item.info.centre));
        item.priority = item.info === selected ? Infinity : Math.max(...item.info.size) / d;
      }
      declutter(labelItems, camera, width, height);
    }
  }

  function frame(now) {
    if (failed) return;
    requestAnimationFrame(frame);
    if (tween) {
      tween(now);
      needsRender = true;
    } else if (!photoLocked && controls.update()) {
      needsRender = true;
    }
    if (needsRender) {
      needsRender = false;
      render();
    }
    if (frameWaiters.length && !tween) {
      const waiting = frameWaiters;
      frameWaiters = [];
      requestAnimationFrame(() => waiting.forEach((resolve) => resolve()));
    }
  }

  render();
  needsRender = false;
  showStatus('', false);
  requestAnimationFrame(() => {
    if (failed) return;
    window.room3dReadyMs = performance.now();
    window.sceneReady = true; // the first frame with the scene has been rendered
    requestAnimationFrame(frame);
  });
}

window.addEventListener('error', (e) => fail(e.error || e.message));
window.addEventListener('unhandledrejection', (e) => fail(e.reason));

function boot() {
  start().catch(fail);
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
