// The sign-in sheet's Print button (a script file: the pages' policy allows no inline script).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
