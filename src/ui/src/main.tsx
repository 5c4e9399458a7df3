// Entry point: start the live stream and render the page.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.js';
import { Live } from './app/live.js';
import './styles.css';

const live = new Live();
live.start();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App live={live} />
  </StrictMode>,
);
