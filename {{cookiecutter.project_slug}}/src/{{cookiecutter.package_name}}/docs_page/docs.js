// Swagger UI on this API's own document; a file, not an inline script, so the page's
// Content-Security-Policy can refuse every inline script.
window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", window.location.href).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
});
