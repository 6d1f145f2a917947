import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadConfig } from "./config";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    root.render(
      <StrictMode>
        <App config={config} />
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    root.render(
      <main className="fatal" role="alert">
        <h1>chatstack could not start</h1>
        <p>Its configuration (config.json) could not be loaded: {String(error)}</p>
        <button type="button" className="button primary" onClick={() => location.reload()}>
          Try again
        </button>
      </main>,
    );
  });
