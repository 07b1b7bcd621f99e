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
  });
});
