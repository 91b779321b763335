// room3d web app: drag and drop on the upload form (the form works without it), and, on a result page,
// window.sceneReady / window.room3d / window.room3dError copied from the framed 3D page once it has rendered.
(function () {
  "use strict";
  const drop = document.getElementById("drop");
  const input = document.getElementById("photo");
  const name = document.getElementById("drop-name");
  if (drop && input) {
    const show = () => { if (name) name.textContent = input.files.length ? input.files[0].name : ""; };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((type) => drop.addEventListener(type, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  }
  const frame = document.getElementById("scene-frame");
  if (frame) {
    const timer = setInterval(() => {
      let inner = null;
      try { inner = frame.contentWindow; } catch (error) { return; }
      if (!inner) return;
      if (inner.room3dError !== undefined && inner.room3dError !== null) {
        window.room3dError = inner.room3dError;
        clearInterval(timer);
      } else if (inner.sceneReady === true) {
        window.room3d = inner.room3d;
        window.sceneReady = true;
        clearInterval(timer);
      }
    }, 100);
  }
})();
