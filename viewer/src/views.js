// Camera framing: the three-quarter overview and smooth moves between views (the photo viewpoint: photo.js).
import { Box3, MathUtils, Matrix4, Quaternion, Vector3 } from 'three';

const UP = new Vector3(0, 1, 0);
// From the scene centre towards the viewer: behind the photo camera (+Z), to its right, above.
const OVERVIEW_DIR = new Vector3(0.62, 0.78, 1.0).normalize();
const OVERVIEW_FOV = 45;

export function lookAtQuaternion(eye, target, up = UP) {
  const m = new Matrix4().lookAt(eye, target, up);
  return new Quaternion().setFromRotationMatrix(m);
}

/**
 * Overview pose: looks at the box centre from OVERVIEW_DIR, at the smallest distance where all
 * eight corners fit (with a margin) into the free part of the viewport. `safe` = {left, top,
 * right, bottom} insets in CSS px (UI on top of the canvas); the projection centre is then moved
 * to the middle of the free area with `uiOffset` (see viewOffsetFor).
 */
export function overviewPose(box, viewW, viewH, safe = NO_INSETS) {
  const b = box.isEmpty() ? new Box3(new Vector3(-2, 0, -4), new Vector3(2, 2.5, 0)) : box;
  const target = b.getCenter(new Vector3());
  const size = b.getSize(new Vector3());
  target.y = Math.max(0, target.y - size.y * 0.1);
  const fwd = OVERVIEW_DIR.clone().negate();
  const right = new Vector3().crossVectors(fwd, UP).normalize();
  const up = new Vector3().crossVectors(right, fwd).normalize();
  const freeW = Math.max(50, viewW - safe.left - safe.right);
  const freeH = Math.max(50, viewH - safe.top - safe.bottom);
  const tanV = Math.tan(MathUtils.degToRad(OVERVIEW_FOV) / 2);
  const margin = 0.93;
  const tanX = ((tanV * freeW) / viewH) * margin;
  const tanY = ((tanV * freeH) / viewH) * margin;
  let dist = 0.5;
  const p = new Vector3();
  for (let i = 0; i < 8; i++) {
    p.set(i & 1 ? b.max.x : b.min.x, i & 2 ? b.max.y : b.min.y, i & 4 ? b.max.z : b.min.z).sub(target);
    const need = Math.max(Math.abs(p.dot(right)) / tanX, Math.abs(p.dot(up)) / tanY) - p.dot(fwd);
    dist = Math.max(dist, need);
  }
  const position = target.clone().addScaledVector(OVERVIEW_DIR, dist);
  const radius = size.length() / 2;
  return {
    name: 'overview',
    position,
    target,
    fov: OVERVIEW_FOV,
    quaternion: lookAtQuaternion(position, target),
    near: Math.max(0.01, dist / 200),
    far: dist * 20 + radius * 10,
    offsetWeight: 1,
  };
}

export const NO_INSETS = Object.freeze({ left: 0, top: 0, right: 0, bottom: 0 });

/** setViewOffset x/y (px) that put the projection centre in the middle of the free area. */
export function viewOffsetFor(viewW, viewH, safe) {
  const freeW = Math.max(50, viewW - safe.left - safe.right);
  const freeH = Math.max(50, viewH - safe.top - safe.bottom);
  const cx = safe.left + freeW / 2 - viewW / 2;
  const cy = safe.top + freeH / 2 - viewH / 2;
  return [-cx, -cy];
}

const easeInOutCubic = (t) => (t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2);

/** A camera move: call step(now) each frame until it returns true; `state.offsetWeight` is eased too. */
export function makeTween(camera, controls, state, goal, durationMs) {
  const from = {
    position: camera.position.clone(),
    target: controls.target.clone(),
    fov: camera.fov,
    quaternion: camera.quaternion.clone(),
    offsetWeight: state.offsetWeight,
  };
  let start = null;
  return function step(now) {
    if (start === null) start = now;
    const t = durationMs > 0 ? Math.min(1, (now - start) / durationMs) : 1;
    const k = easeInOutCubic(t);
    camera.position.lerpVectors(from.position, goal.position, k);
    controls.target.lerpVectors(from.target, goal.target, k);
    camera.quaternion.slerpQuaternions(from.quaternion, goal.quaternion, k);
    camera.fov = MathUtils.lerp(from.fov, goal.fov, k);
    state.offsetWeight = MathUtils.lerp(from.offsetWeight, goal.offsetWeight, k);
    camera.near = goal.near;
    camera.far = goal.far;
    camera.updateProjectionMatrix();
    return t >= 1;
  };
}
