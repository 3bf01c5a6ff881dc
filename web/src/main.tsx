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
            {/* URL changes render at once, not in a React transition: the filters live in the URL, and while a
                transition is pending the page still holds the previous URL's state, so a second Enter on a stage
                card pressed in that window toggled the old filter on again instead of off (a lost keypress) */}
            <BrowserRouter useTransitions={false}>
              <App />
            </BrowserRouter>
          </AuthProvider>
        </QueryProvider>
      </ThemedAntd>
    </I18nProvider>
  </StrictMode>,
);
