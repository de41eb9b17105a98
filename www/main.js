// Loads the library from /pkg/ and keeps the credit estimate in step with the form.
import init, { estimateCredits } from '/pkg/faceswap_wasm.js';

const form = document.getElementById('price');
const output = document.getElementById('credits');
const error = document.getElementById('error');

function update() {
  const data = new FormData(form);
  const faces = Number(data.get('faces'));
  const params = {
    duration: Number(data.get('duration')),
    enhance: Number(data.get('enhance')),
    refInfo: Array.from({ length: Number.isInteger(faces) && faces > 0 ? faces : 0 }, () => ({})),
  };
  try {
    output.textContent = String(estimateCredits(data.get('operation'), params));
    error.textContent = '';
  } catch (e) {
    output.textContent = '–';
    error.textContent = `${e.field ? e.field + ': ' : ''}${e.message}`;
  }
}

await init();
form.addEventListener('input', update);
update();
document.body.dataset.ready = 'true';
