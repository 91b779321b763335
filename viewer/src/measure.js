// The measure tool: two points picked on surfaces, a line between them and the distance in metres and
// feet-inches (on a label at the line's middle and in a readout card).
import {
  BufferGeometry, Float32BufferAttribute, Group, Line, LineBasicMaterial, Mesh, MeshBasicMaterial, SphereGeometry, Vector3,
} from 'three';
import { CSS2DObject } from 'three/addons/renderers/CSS2DRenderer.js';
import { fmtDistance } from './format.js';

const COLOUR = '#dc2626';
const MARKER_SCREEN = 0.006; // marker radius per metre of distance from the camera

export class Measure {
  constructor(scene, readout) {
    this.readout = readout;
    this.active = false;
    this.points = [];
    this.group = new Group();
    this.group.name = 'room3d-measure';
    const markerGeometry = new SphereGeometry(1, 16, 12);
    const markerMaterial = new MeshBasicMaterial({ color: COLOUR, depthTest: false, transparent: true });
    this.markers = [0, 1].map(() => {
      const m = new Mesh(markerGeometry, markerMaterial);
      m.renderOrder = 20;
      m.visible = false;
      this.group.add(m);
      return m;
    });
    const lineGeometry = new BufferGeometry();
    lineGeometry.setAttribute('position', new Float32BufferAttribute(new Float32Array(6), 3));
    this.line = new Line(lineGeometry, new LineBasicMaterial({ color: COLOUR, depthTest: false, transparent: true }));
    this.line.renderOrder = 20;
    this.line.frustumCulled = false;
    this.line.visible = false;
    this.group.add(this.line);
    const el = document.createElement('div');
    el.className = 'room3d-measure-label';
    this.label = new CSS2DObject(el);
    this.label.center.set(0.5, 1.3);
    this.label.visible = false;
    this.group.add(this.label);
    scene.add(this.group);
    this.showReadout();
  }

  setActive(onOff) {
    this.active = !!onOff;
    if (!this.active) this.points = [];
    this.refresh();
  }

  /** Adds a picked point (world metres); a third point starts a new measurement. */
  add(point) {
    if (this.points.length >= 2) this.points = [];
    this.points.push(point.clone());
    this.refresh();
  }

  /** {a, b, distance} (metres) of the finished measurement, or null. */
  result() {
    if (this.points.length < 2) return null;
    const [a, b] = this.points;
    return { a: a.toArray(), b: b.toArray(), distance: a.distanceTo(b) };
  }

  refresh() {
    const [a, b] = this.points;
    this.markers.forEach((m, i) => {
      m.visible = i < this.points.length;
      if (m.visible) m.position.copy(this.points[i]);
    });
    const done = this.points.length === 2;
    this.line.visible = done;
    this.label.visible = done;
    if (done) {
      const pos = this.line.geometry.getAttribute('position');
      pos.setXYZ(0, a.x, a.y, a.z);
      pos.setXYZ(1, b.x, b.y, b.z);
      pos.needsUpdate = true;
      this.line.geometry.computeBoundingSphere();
      this.label.position.copy(a).add(b).multiplyScalar(0.5);
      this.label.element.textContent = fmtDistance(a.distanceTo(b));
    }
    this.showReadout();
  }

  showReadout() {
    if (!this.readout) return;
    this.readout.hidden = !this.active;
    if (!this.active) return;
    const n = this.points.length;
    this.readout.textContent = n === 2
      ? `Distance: ${fmtDistance(this.points[0].distanceTo(this.points[1]))} · click to measure again`
      : n === 1 ? 'Click the second point' : 'Measure: click a point on a box, the floor or a wall';
  }

  /** Keeps the markers the same size on screen. */
  update(camera) {
    const c = camera.getWorldPosition(new Vector3());
    for (const m of this.markers) {
      if (m.visible) m.scale.setScalar(Math.max(0.004, c.distanceTo(m.position) * MARKER_SCREEN));
    }
  }
}
