// Camera framing: the three-quarter overview, the photo viewpoint, and smooth moves between them.
import { MathUtils, Matrix4, Quaternion, Sphere, Vector3 } from 'three';

const UP = new Vector3(0, 1, 0);
// From the scene centre towards the viewer: behind the photo camera (+Z), to its right, above.
const OVERVIEW_DIR = new Vector3(0.62, 0.78, 1.0).normalize();
const OVERVIEW_FOV = 45;

export function lookAtQuaternion(eye, target, up = UP) {
  const m = new Matrix4().lookAt(eye, target, up);
  return new Quaternion().setFromRotationMatrix(m);
}

/** Overview pose framing the bounding box for a camera with the given aspect ratio. */
export function overviewPose(box, aspect) {
  const sphere = box.isEmpty() ? new Sphere(new Vector3(0, 1, -2), 3) : box.getBoundingSphere(new Sphere());
  const radius = Math.max(sphere.radius, 0.5);
  const vfov = MathUtils.degToRad(OVERVIEW_FOV);
  const hfov = 2 * Math.atan(Math.tan(vfov / 2) * aspect);
  const dist = (radius / Math.sin(Math.min(vfov, hfov) / 2)) * 0.92;
  const target = sphere.center.clone();
  target.y = Math.max(0, target.y - radius * 0.12);
  const position = target.clone().addScaledVector(OVERVIEW_DIR, dist);
  return {
    name: 'overview',
    position,
    target,
    fov: OVERVIEW_FOV,
    quaternion: lookAtQuaternion(position, target),
    near: Math.max(0.01, dist / 200),
    far: dist * 20 + radius * 10,
  };
}

/**
 * Vertical fov (degrees) that shows the whole photo frame (photo vfov, photo aspect) in a
 * viewport of aspect `viewAspect` ("contain": letterboxed, never cropped).
 */
export function containFov(photoFovDeg, photoAspect, viewAspect) {
  if (!(photoAspect > 0) || viewAspect >= photoAspect) return photoFovDeg;
  const t = Math.tan(MathUtils.degToRad(photoFovDeg) / 2) * (photoAspect / viewAspect);
  return MathUtils.radToDeg(2 * Math.atan(t));
}

/** The photo camera's pose (exact orientation, roll included) and a target along its axis. */
export function photoPose(photoCamera, photoAspect, viewAspect, box) {
  photoCamera.updateMatrixWorld(true);
  const position = new Vector3();
  const quaternion = new Quaternion();
  const scale = new Vector3();
  photoCamera.matrixWorld.decompose(position, quaternion, scale);
  const forward = new Vector3(0, 0, -1).applyQuaternion(quaternion);
  let d = 3;
  if (!box.isEmpty()) d = Math.max(1, box.getCenter(new Vector3()).sub(position).dot(forward));
  return {
    name: 'photo',
    position,
    target: position.clone().addScaledVector(forward, d),
    fov: containFov(photoCamera.fov, photoAspect, viewAspect),
    quaternion,
    near: 0.02,
    far: Math.max(100, d * 50),
  };
}

const easeInOutCubic = (t) => (t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2);

/** A camera move: call step(now) each frame until it returns true. */
export function makeTween(camera, controls, goal, durationMs) {
  const from = {
    position: camera.position.clone(),
    target: controls.target.clone(),
    fov: camera.fov,
    quaternion: camera.quaternion.clone(),
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
    camera.near = goal.near;
    camera.far = goal.far;
    camera.updateProjectionMatrix();
    return t >= 1;
  };
}
