// Where an edited box comes to rest: pure functions of boxes ({ center: [x, y, z], size: [w, h, d], yaw }) and the
// room's walls (scene.json's room.walls: { name, plane: [nx, ny, nz, d] }, n . p + d = 0, n into the room).
//
// - snapBox: a box moved by the user stands on the floor or on the top of the object under it, and a side that
//   comes within reach of a wall touches it;
// - resizedByFace: a face dragged out or in, the opposite face staying where it was; resizedToFace: the same, the
//   face landing on a wall (or the bottom on the floor) it comes within reach of;
// - snappedYaw: a turn close to one of the room's axes lands on it.

import { boxCorners } from './edit.js';

/** How close (metres) a side must come to a wall to touch it, and a bottom to a surface to rest on it. */
export const SNAP_REACH_M = 0.12;
/** A box rests on another's top when its footprint lies within the other's, give or take this (metres). */
export const FOOTPRINT_SLACK_M = 0.05;
/** Nothing stands on a top higher than this (metres): a wardrobe is no shelf to put a chair on. */
export const HIGHEST_SUPPORT_M = 2.2;
/** Smallest box extent a resize leaves (metres). */
export const MIN_SIZE_M = 0.05;
/** A dragged face lands on a wall only when it faces the wall within this (cosine of 15 degrees). */
export const FACE_ALIGN_COS = Math.cos((15 * Math.PI) / 180);
/** A turn within this of one of the room's axes (radians, 4 degrees) lands on it. */
export const YAW_SNAP_RAD = (4 * Math.PI) / 180;

function footprint(box) {
  return boxCorners(box.center, box.size, box.yaw).filter((_, i) => [0, 1, 4, 5].includes(i));
}

function inside(point, box, slack) {
  const dx = point[0] - box.center[0];
  const dz = point[2] - box.center[2];
  const c = Math.cos(box.yaw);
  const s = Math.sin(box.yaw);
  const x = c * dx - s * dz; // the box's own x and z
  const z = s * dx + c * dz;
  return Math.abs(x) <= box.size[0] / 2 + slack && Math.abs(z) <= box.size[2] / 2 + slack;
}

/** The top (metres) of the highest other box whose footprint holds `box`'s, and its name; the floor otherwise. */
export function supportUnder(box, others) {
  const corners = footprint(box);
  let best = { top: 0, name: null };
  for (const other of others) {
    const top = other.center[1] + other.size[1] / 2;
    if (top > HIGHEST_SUPPORT_M || top <= best.top) continue;
    if (corners.every((p) => inside(p, other, FOOTPRINT_SLACK_M))) best = { top, name: other.name || null };
  }
  return best;
}

/** Whether `box` rests on the floor or on another box's top (within SNAP_REACH_M): a hung box does not. */
export function isResting(box, others) {
  const bottom = box.center[1] - box.size[1] / 2;
  if (Math.abs(bottom) <= SNAP_REACH_M) return true;
  return others.some((o) => Math.abs(o.center[1] + o.size[1] / 2 - bottom) <= SNAP_REACH_M);
}

/**
 * `box` where it comes to rest: { center, on, walls }. A resting box (`resting`: see isResting, judged where the
 * move began) stands on the floor or on the top under it (`on`: that object's name, null for the floor); each of
 * up to two walls a side comes within SNAP_REACH_M of is touched (`walls`: their names).
 */
export function snapBox(box, others, walls, resting = true) {
  const center = box.center.slice();
  let on = null;
  if (resting) {
    const support = supportUnder({ ...box, center }, others);
    center[1] = support.top + box.size[1] / 2;
    on = support.name;
  }
  const touched = [];
  const used = [];
  for (let round = 0; round < 2; round++) {
    let best = null;
    for (const wall of walls || []) {
      const [nx, ny, nz, d] = wall.plane || [];
      if (![nx, ny, nz, d].every(Number.isFinite) || Math.abs(ny) > 0.5) continue;
      if (used.some(([ux, uz]) => Math.abs(ux * nx + uz * nz) > 0.7)) continue; // one wall per direction
      const gap = Math.min(...footprint({ ...box, center }).map((p) => nx * p[0] + ny * p[1] + nz * p[2] + d));
      if (Math.abs(gap) <= SNAP_REACH_M && (!best || Math.abs(gap) < Math.abs(best.gap))) best = { gap, wall, nx, nz };
    }
    if (!best) break;
    center[0] -= best.gap * best.nx;
    center[2] -= best.gap * best.nz;
    used.push([best.nx, best.nz]);
    touched.push(best.wall.name || 'wall');
  }
  return { center, on, walls: touched };
}

/**
 * The box with one face moved by `amount` metres along its outward normal (`axis` 0, 1, 2 of the box's own x, y,
 * z; `sign` +1 or -1), the opposite face staying put; no extent below MIN_SIZE_M.
 */
export function resizedByFace(box, axis, sign, amount) {
  const size = box.size.slice();
  const grown = Math.max(MIN_SIZE_M, size[axis] + amount) - size[axis];
  size[axis] += grown;
  const local = [0, 0, 0];
  local[axis] = (sign * grown) / 2;
  const c = Math.cos(box.yaw);
  const s = Math.sin(box.yaw);
  const center = [box.center[0] + c * local[0] + s * local[2], box.center[1] + local[1],
    box.center[2] - s * local[0] + c * local[2]];
  return { ...box, center, size };
}

/**
 * resizedByFace, the moved face landing on the nearest wall it faces (within FACE_ALIGN_COS) and comes within
 * SNAP_REACH_M of, or, for the bottom face, on the floor: { box, to } (`to`: that wall's name, 'floor', or null).
 */
export function resizedToFace(box, axis, sign, amount, walls) {
  const moved = resizedByFace(box, axis, sign, amount);
  const local = [0, 0, 0];
  local[axis] = sign;
  const c = Math.cos(box.yaw);
  const s = Math.sin(box.yaw);
  const normal = [c * local[0] + s * local[2], local[1], -s * local[0] + c * local[2]]; // the face's, in the room
  const corners = boxCorners(moved.center, moved.size, moved.yaw);
  const planes = [...(walls || []), { name: 'floor', plane: [0, 1, 0, 0] }];
  let best = null;
  for (const wall of planes) {
    const [nx, ny, nz, d] = wall.plane || [];
    if (![nx, ny, nz, d].every(Number.isFinite)) continue;
    const facing = nx * normal[0] + ny * normal[1] + nz * normal[2]; // -1: the face looks straight at it
    if (facing > -FACE_ALIGN_COS) continue;
    const gap = Math.min(...corners.map((p) => nx * p[0] + ny * p[1] + nz * p[2] + d));
    if (Math.abs(gap) <= SNAP_REACH_M && (!best || Math.abs(gap) < Math.abs(best.gap))) best = { gap, facing, wall };
  }
  if (!best) return { box: moved, to: null };
  return { box: resizedByFace(box, axis, sign, amount - best.gap / best.facing), to: best.wall.name || 'wall' };
}

/** `yaw` wrapped to (-pi, pi], landing on a room axis (`roomYaw` + k pi/2) within YAW_SNAP_RAD. */
export function snappedYaw(yaw, roomYaw = 0) {
  const quarter = Math.PI / 2;
  const k = Math.round((yaw - roomYaw) / quarter);
  const axis = roomYaw + k * quarter;
  const out = Math.abs(yaw - axis) <= YAW_SNAP_RAD ? axis : yaw;
  return Math.atan2(Math.sin(out), Math.cos(out));
}
