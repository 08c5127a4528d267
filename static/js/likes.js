// Like toggle without a page reload; the form still works (POST + redirect) with JavaScript off.
document.querySelectorAll("[data-like-form]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const liked = form.dataset.liked === "true";
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const response = await fetch(form.dataset.api, {
      method: liked ? "DELETE" : "POST",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      form.submit();
      return;
    }
    const data = await response.json();
    form.dataset.liked = String(data.liked);
    const button = form.querySelector("button");
    button.textContent = data.liked ? "♥ Unlike" : "♡ Like";
    button.setAttribute("aria-pressed", String(data.liked));
    document.querySelectorAll("[data-like-count]").forEach((el) => (el.textContent = data.likes));
  });
});
