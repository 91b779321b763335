// The photo viewpoint: the photo's pinhole intrinsics (OpenCV pixels) and pose as a three.js camera, and
// where the photo sits in the viewport, so that the boxes line up with the picture.
import { MathUtils, Matrix4, Quaternion, Vector3 } from 'three';

function finite(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/** OpenCV camera (x right, y down, z forward) -> three.js camera (x right, y up, looking along -z). */
const GL_FROM_CV = new Matrix4().makeScale(1, -1, -1);

/**
 * The photo camera: {fx, fy, cx, cy, width, height} in photo pixels and `matrixWorld`, the three.js camera's
 * world matrix (metres). Read from scene.json (`camera`: intrinsics and world_from_camera, a row-major 4×4
 * OpenCV camera -> world), else from the GLB's photo_camera node (its extras carry the intrinsics). Null when
 * neither is usable.
 */
export function photoCamera(meta, glbCamera) {
  const cam = meta && meta.camera;
  const ok = (c) => c && ['fx', 'fy', 'cx', 'cy', 'width', 'height'].every((k) => finite(c[k]))
    && c.fx > 0 && c.fy > 0 && c.width > 0 && c.height > 0;
  if (ok(cam) && Array.isArray(cam.world_from_camera) && cam.world_from_camera.length === 4) {
    const rows = cam.world_from_camera.flat();
    if (rows.length === 16 && rows.every(finite)) {
      const cv = new Matrix4().set(...rows);
      return { ...pick(cam), matrixWorld: cv.multiply(GL_FROM_CV), source: 'scene.json' };
    }
  }
  if (glbCamera) {
    glbCamera.updateMatrixWorld(true);
    let ud = glbCamera.userData || {};
    if (!ok(ud) && glbCamera.parent) ud = glbCamera.parent.userData || {};
    const intrinsics = ok(ud) ? pick(ud) : fromFov(glbCamera);
    return { ...intrinsics, matrixWorld: glbCamera.matrixWorld.clone(), source: 'glb' };
  }
  return null;
}

function pick(c) {
  return { fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy, width: c.width, height: c.height };
}

/** Intrinsics of a centred pinhole with the camera's vertical fov and aspect (1000 px high). */
function fromFov(camera) {
  const height = 1000;
  const width = height * (camera.aspect || 4 / 3);
  const f = height / 2 / Math.tan(MathUtils.degToRad(camera.fov || 50) / 2);
  return { fx: f, fy: f, cx: width / 2, cy: height / 2, width, height };
}

/** The photo's rectangle in a w×h viewport (CSS px): the largest of the photo's aspect that fits, centred. */
export function photoRect(photo, w, h) {
  const scale = Math.min(w / photo.width, h / photo.height);
  const width = photo.width * scale;
  const height = photo.height * scale;
  return { left: (w - width) / 2, top: (h - height) / 2, width, height, scale };
}

/** Vertical fov (degrees) of the photo projection in a w×h viewport (used to ease into photo view). */
export function photoFov(photo, w, h) {
  const { scale } = photoRect(photo, w, h);
  return MathUtils.radToDeg(2 * Math.atan(h / (2 * scale * photo.fy)));
}

/**
 * Gives `camera` (a PerspectiveCamera over a w×h viewport) the photo's projection: the photo pixel (u, v)
 * lands on (rect.left + s·u, rect.top + s·v) with s = rect.scale, principal point and fx ≠ fy included.
 */
export function applyPhotoProjection(camera, photo, w, h) {
  const r = photoRect(photo, w, h);
  const s = r.scale;
  camera.fov = photoFov(photo, w, h);
  camera.zoom = 1;
  // setViewOffset moves the window: the optical axis ends up at (w/2 - x, h/2 - y) on screen.
  camera.setViewOffset(w, h, w / 2 - (r.left + s * photo.cx), h / 2 - (r.top + s * photo.cy), w, h);
  // setViewOffset sets aspect = w / h; square photo pixels need nothing more, fx ≠ fy a wider or narrower one
  camera.aspect = (w / h) * (photo.fy / photo.fx);
  camera.updateProjectionMatrix();
}

/** The photo camera's position and orientation (roll included) and a target along its axis. */
export function photoPose(photo, box) {
  const position = new Vector3();
  const quaternion = new Quaternion();
  photo.matrixWorld.decompose(position, quaternion, new Vector3());
  const forward = new Vector3(0, 0, -1).applyQuaternion(quaternion);
  let d = 3;
  if (!box.isEmpty()) d = Math.max(1, box.getCenter(new Vector3()).sub(position).dot(forward));
  return { position, quaternion, target: position.clone().addScaledVector(forward, d), distance: d };
}
