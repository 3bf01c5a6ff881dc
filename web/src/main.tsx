import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./app/App";
import { QueryProvider, ThemedAntd } from "./app/Providers";
import { AuthProvider } from "./auth/AuthProvider";
import { I18nProvider } from "./i18n";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <I18nProvider>
      <ThemedAntd>
        <QueryProvider>
          <AuthProvider>
            <BrowserRouter>
              <App />
            </BrowserRouter>
          </AuthProvider>
        </QueryProvider>
      </ThemedAntd>
    </I18nProvider>
  </StrictMode>,
);
