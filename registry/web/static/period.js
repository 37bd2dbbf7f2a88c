// Report period forms: the browser refuses an end before the start (and an unreadable date) before submitting.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.period")) {
    const since = form.querySelector("input[name=since]");
    const until = form.querySelector("input[name=until]");
    const check = () => {
      since.max = until.value || "";
      until.min = since.value || "";
      const wrong = since.value && until.value && since.value >= until.value;
      until.setCustomValidity(wrong ? "The end of the period must come after its start." : "");
    };
    since.addEventListener("input", check);
    until.addEventListener("input", check);
    form.addEventListener("submit", (event) => {
      check();
      if (!form.reportValidity()) event.preventDefault();
    });
    check();
  }
});
