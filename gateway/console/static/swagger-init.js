// Starts the vendored Swagger UI on the gateway's /docs page (gateway/api_docs.py): a file, not an inline script,
// so the page's Content-Security-Policy can forbid inline scripts. validatorUrl null: the document is not sent to
// validator.swagger.io (nothing leaves the machine).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    // Tags folded: a person opens the one they need. Expanded, Swagger UI 5 drew only the first two tags of our
    // ~125 operations in headless chromium (no error logged); folded, every tag is listed and opens whole.
    docExpansion: "none",
  });
});
