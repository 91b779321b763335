// room3d viewer: loads the GLB embedded in the page and shows it with three.js.
// Works from file:// with no network access (everything is inline in the page).
import {
  DirectionalLight,
  HemisphereLight,
  PerspectiveCamera,
  Scene,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { CSS2DRenderer } from 'three/addons/renderers/CSS2DRenderer.js';

import { dressScene } from './dress.js';
import { fovFromScene, readGlb, readSceneJson } from './payload.js';
import {
  IDS, byId, fillInfo, fillObjectList, makeLabel, setActiveButton, showPhotoFrame, showStatus, viewportElement,
} from './ui.js';
import {
  NO_INSETS, containFov, lookAtQuaternion, makeTween, overviewPose, photoPose, viewOffsetFor,
} from './views.js';

const TWEEN_MS = 650;
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

async function start() {
  showStatus('Loading scene…', false);
  const glb = readGlb();
  const meta = readSceneJson();
  const host = viewportElement();

  const renderer = new WebGLRenderer({ antialias: true, alpha: true });
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

  // Labels sit on the top face of each box (local +0.5 of the unit cube, so they follow the scale).
  const labelObjects = dressed.objects.map((info) => {
    const label = makeLabel(info);
    label.position.set(0, 0.5, 0);
    info.node.add(label);
    return label;
  });

  // ---- camera, controls, views -------------------------------------------------------------
  const camera = new PerspectiveCamera(45, 1, 0.05, 500);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;
  controls.dampingFactor = 0.12;
  controls.screenSpacePanning = true;

  const fov = fovFromScene(meta);
  const photoAspect = (fov && fov.aspect) || (dressed.photoCamera ? dressed.photoCamera.aspect : 0);
  const framingBox = dressed.sceneBox.clone();
  if (dressed.photoCamera) framingBox.expandByPoint(dressed.photoCamera.getWorldPosition(new Vector3()));

  let view = 'overview';
  let tween = null;
  let photoLocked = false; // in photo view the camera keeps the exact photo pose (roll included)
  let needsRender = true;
  let width = 1;
  let height = 1;
  let insets = NO_INSETS;
  // 1: projection centre moved to the middle of the area not covered by the UI; 0: photo view (none).
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
      }
    }
    return out;
  }

  function applyViewOffset() {
    const w = state.offsetWeight;
    if (w > 0.001) {
      const [ox, oy] = viewOffsetFor(width, height, insets);
      camera.setViewOffset(width, height, ox * w, oy * w, width, height);
    } else if (camera.view && camera.view.enabled) {
      camera.clearViewOffset();
    }
  }

  function poseFor(name) {
    if (name === 'photo' && dressed.photoCamera) {
      return photoPose(dressed.photoCamera, photoAspect, width / height, dressed.sceneBox);
    }
    return overviewPose(framingBox, width, height, insets);
  }

  function stopControlsMotion() {
    if (controls._sphericalDelta) controls._sphericalDelta.set(0, 0, 0);
    if (controls._panOffset) controls._panOffset.set(0, 0, 0);
    if (typeof controls._scale === 'number') controls._scale = 1;
  }

  function finishView(name, goal) {
    camera.position.copy(goal.position);
    camera.quaternion.copy(goal.quaternion);
    controls.target.copy(goal.target);
    camera.fov = goal.fov;
    camera.near = goal.near;
    camera.far = goal.far;
    camera.updateProjectionMatrix();
    state.offsetWeight = goal.offsetWeight;
    photoLocked = name === 'photo';
    if (!photoLocked) controls.update();
    showPhotoFrame(name === 'photo', width, height, photoAspect);
    needsRender = true;
  }

  function setView(name, animate = true) {
    if (name === 'photo' && !dressed.photoCamera) return false;
    if (name !== 'photo') name = 'overview';
    stopControlsMotion();
    view = name;
    setActiveButton(name);
    showPhotoFrame(false);
    const goal = poseFor(name);
    const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (!animate || reduce) {
      tween = null;
      finishView(name, goal);
    } else {
      photoLocked = true; // controls stay out of the way during the move
      const step = makeTween(camera, controls, state, goal, TWEEN_MS);
      tween = (now) => {
        if (step(now)) {
          tween = null;
          finishView(name, goal);
        }
      };
    }
    needsRender = true;
    return true;
  }

  function focusObject(info) {
    stopControlsMotion();
    const dir = camera.position.clone().sub(controls.target).normalize();
    const extent = Math.max(...info.size, 0.3);
    const target = info.node.getWorldPosition(new Vector3());
    const position = target.clone().addScaledVector(dir, Math.max(1.2, extent * 2.8));
    const goal = overviewPose(framingBox, width, height, insets);
    Object.assign(goal, { position, target, quaternion: lookAtQuaternion(position, target) });
    view = 'free';
    setActiveButton(view);
    showPhotoFrame(false);
    photoLocked = true;
    const step = makeTween(camera, controls, state, goal, TWEEN_MS);
    tween = (now) => {
      if (step(now)) {
        tween = null;
        finishView('free', goal);
      }
    };
  }

  controls.addEventListener('start', () => {
    // The user takes over: leave the exact photo pose / cancel a move.
    tween = null;
    if (photoLocked) {
      photoLocked = false;
      showPhotoFrame(false);
    }
    if (view !== 'free') {
      view = 'free';
      setActiveButton(view);
    }
  });
  controls.addEventListener('change', () => {
    needsRender = true;
  });

  function resize() {
    width = Math.max(1, host.clientWidth);
    height = Math.max(1, host.clientHeight);
    renderer.setSize(width, height, false);
    renderer.domElement.style.width = '100%';
    renderer.domElement.style.height = '100%';
    labelRenderer.setSize(width, height);
    insets = measureInsets();
    camera.aspect = width / height;
    if (view === 'photo' && photoLocked && !tween && dressed.photoCamera) {
      camera.fov = containFov(dressed.photoCamera.fov, photoAspect, camera.aspect);
      showPhotoFrame(true, width, height, photoAspect);
    }
    camera.updateProjectionMatrix();
    needsRender = true;
  }
  window.addEventListener('resize', resize);
  resize();
  setView('overview', false);

  // ---- UI ----------------------------------------------------------------------------------
  const bOverview = byId(IDS.overview);
  const bPhoto = byId(IDS.photo);
  if (bOverview) bOverview.addEventListener('click', () => setView('overview'));
  if (bPhoto) {
    if (dressed.photoCamera) bPhoto.addEventListener('click', () => setView('photo'));
    else {
      bPhoto.disabled = true;
      bPhoto.title = 'This scene has no photo camera';
    }
  }
  window.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (e.key === 'o' || e.key === 'O') setView('overview');
    else if (e.key === 'p' || e.key === 'P') setView('photo');
  });

  fillInfo(
    counts.objectCount,
    fov || (dressed.photoCamera ? { v: (dressed.photoCamera.fov * Math.PI) / 180 } : null),
    !!meta._unreadable,
  );
  fillObjectList(dressed.objects, {
    onHover(info, on) {
      for (const m of info.materials) m.opacity = on ? 0.6 : 0.3;
      labelObjects[info.index].element.classList.toggle('active', on);
      needsRender = true;
    },
    onClick: focusObject,
  });

  window.room3d = {
    objectCount: counts.objectCount,
    meshCount: counts.meshCount,
    labels: dressed.objects.map((o) => o.label),
    names: dressed.objects.map((o) => o.name),
    objects: dressed.objects.map((o) => ({ name: o.name, label: o.label, category: o.category, size: o.size.slice() })),
    hasPhotoCamera: !!dressed.photoCamera,
    get view() {
      return view;
    },
    setView: (name, animate = false) => setView(name, animate),
  };

  // ---- render loop -------------------------------------------------------------------------
  const camPos = new Vector3();
  function render() {
    camera.getWorldPosition(camPos);
    dressed.updateFading(camPos);
    applyViewOffset();
    renderer.render(scene, camera);
    labelRenderer.render(scene, camera);
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
  }

  render();
  needsRender = false;
  showStatus('', false);
  requestAnimationFrame(() => {
    if (failed) return;
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
