// The optional point cloud the exporter embeds (depth map unprojected into the world):
//   <script type="application/octet-stream;base64" id="room3d-points-xyz">  float32 x,y,z per point (little endian)
//   <script type="application/octet-stream;base64" id="room3d-points-rgb">  uint8 r,g,b per point
import { BufferAttribute, BufferGeometry, Points, PointsMaterial } from 'three';

const srgbToLinear = (c) => (c < 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);

export const POINTS_XYZ_ID = 'room3d-points-xyz';
export const POINTS_RGB_ID = 'room3d-points-rgb';

function bytesOf(id, doc) {
  const el = doc.getElementById(id);
  const b64 = el ? (el.textContent || '').replace(/\s+/g, '') : '';
  if (!b64) return null;
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The embedded point cloud as a THREE.Points (null when the page has none); throws on malformed data. */
export function readPointCloud(doc = document) {
  const xyz = bytesOf(POINTS_XYZ_ID, doc);
  if (!xyz) return null;
  const rgb = bytesOf(POINTS_RGB_ID, doc);
  const count = Math.floor(xyz.length / 12);
  if (xyz.length !== count * 12 || !rgb || rgb.length !== count * 3) {
    throw new Error('The embedded point cloud is malformed (positions and colours disagree).');
  }
  const positions = new Float32Array(xyz.buffer, 0, count * 3); // little endian: every platform a browser runs on
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new BufferAttribute(positions, 3));
  // The colours are sRGB bytes; three.js wants linear colours (it encodes the output as sRGB).
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = srgbToLinear(i / 255);
  const colours = new Float32Array(count * 3);
  for (let i = 0; i < colours.length; i++) colours[i] = lut[rgb[i]];
  geometry.setAttribute('color', new BufferAttribute(colours, 3));
  geometry.computeBoundingSphere();
  const material = new PointsMaterial({ size: 0.025, vertexColors: true, sizeAttenuation: true });
  const points = new Points(geometry, material);
  points.name = 'room3d-points';
  points.renderOrder = -1;
  return points;
}
