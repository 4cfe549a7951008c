import './style.css';
import { App } from './ui/app';

const root = document.getElementById('app');
if (root) {
  const app = new App(root);
  // Read-only state for the browser tests (tests/browser); not an API.
  (window as unknown as { __sam2c: unknown }).__sam2c = {
    snapshot: () => app.snapshot(),
    referencePixels: () => app.referencePixels(),
    effectsQuery: () => app.effectsQuery(),
    effectsPicture: () => app.effectsPicture(),
  };
  app.start();
}
