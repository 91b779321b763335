// Reading the data the Python exporter embeds in the page.
//
//   <script type="application/octet-stream;base64" id="room3d-glb">BASE64</script>
//   <script type="application/json" id="room3d-scene">{...scene.json...}</script>

export const GLB_ELEMENT_ID = 'room3d-glb';
export const SCENE_ELEMENT_ID = 'room3d-scene';

/** The embedded GLB as an ArrayBuffer; throws with a readable message when absent or malformed. */
export function readGlb(doc = document) {
  const el = doc.getElementById(GLB_ELEMENT_ID);
  if (!el) throw new Error(`No GLB in the page (no element with id "${GLB_ELEMENT_ID}").`);
  const b64 = (el.textContent || '').replace(/\s+/g, '');
  if (!b64) throw new Error('The embedded GLB is empty.');
  let bin;
  try {
    bin = atob(b64);
  } catch (err) {
    throw new Error('The embedded GLB is not valid base64.');
  }
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  // "glTF" magic, little endian.
  if (bytes.length < 12 || bytes[0] !== 0x67 || bytes[1] !== 0x6c || bytes[2] !== 0x54 || bytes[3] !== 0x46) {
    throw new Error('The embedded data is not a GLB file (bad magic).');
  }
  return bytes.buffer;
}

/**
 * The embedded scene.json as an object. Tolerant: a missing element gives {},
 * unreadable JSON gives {} with `_unreadable: true` (only used for the info panel).
 */
export function readSceneJson(doc = document) {
  const el = doc.getElementById(SCENE_ELEMENT_ID);
  const text = el ? (el.textContent || '').trim() : '';
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : {};
  } catch (err) {
    return { _unreadable: true };
  }
}

function finite(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Field of view of the photo in radians from scene.json camera intrinsics, or null. */
export function fovFromScene(scene) {
  const cam = scene && scene.camera;
  if (!cam || typeof cam !== 'object') return null;
  const { fx, fy, width, height } = cam;
  const out = {};
  if (finite(fx) && fx > 0 && finite(width) && width > 0) out.h = 2 * Math.atan(width / (2 * fx));
  if (finite(fy) && fy > 0 && finite(height) && height > 0) out.v = 2 * Math.atan(height / (2 * fy));
  if (finite(width) && width > 0 && finite(height) && height > 0) out.aspect = width / height;
  return Object.keys(out).length ? out : null;
}
