// The demo shop: one page whose views are routed with the history API.
//
// Each view fetches what it shows from the JSON API. Every navigation bumps
// `visit`; async work started by an earlier view checks it and drops its
// result, so a slow response never paints over the view the user moved to.
"use strict";

const view = document.getElementById("view");
const cartCount = document.getElementById("cart-count");
const search = document.getElementById("search");
const searchResults = document.getElementById("search-results");
let visit = 0;

// Build an element: el("a", {href: "/"}, "text", child, ...).
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick" || name === "onsubmit") element[name] = value;
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    // An empty or non-JSON body: the status says enough.
  }
  return {status: response.status, data};
}

function money(price) {
  return el("span", {class: "price"}, `$${price.toFixed(2)}`);
}

function showCount(cart) {
  if (cart && typeof cart.count === "number") cartCount.textContent = cart.count;
}

async function refreshCount() {
  const {status, data} = await api("/api/cart");
  if (status === 200) showCount(data);
}

// Routing

const routes = [
  [/^\/$/, showProducts],
  [/^\/products\/([^/]+)$/, showProduct],
  [/^\/cart$/, showCart],
  [/^\/login$/, showLogin],
  [/^\/orders\/([^/]+)$/, showOrder],
];

function render() {
  visit += 1;
  closeSearch();
  for (const [pattern, show] of routes) {
    const match = pattern.exec(location.pathname);
    if (match) return show(visit, ...match.slice(1));
  }
  view.replaceChildren(el("h1", {id: "not-found"}, "Page not found"));
}

function navigate(path) {
  history.pushState(null, "", path);
  render();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='/']");
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey
      || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", render);

// Views

function showProducts(current) {
  const list = el("ul", {id: "products"});
  const next = el("button", {id: "next-page", type: "button"}, "Next page");
  let page = 1;
  async function load(wanted) {
    page = wanted;
    const {status, data} = await api(`/api/products?page=${wanted}`);
    if (current !== visit || page !== wanted) return;
    if (status !== 200) {
      list.replaceChildren(el("li", {class: "message"}, `Error ${status}`));
      return;
    }
    list.replaceChildren(...data.products.map(productCard));
    next.disabled = data.page >= data.pages;
  }
  next.onclick = () => load(page + 1);
  view.replaceChildren(el("h1", {}, "Products"), list, next);
  load(1);
}

function productCard(product) {
  const picture = el("img", {src: product.image, alt: "", width: 240, height: 180});
  const link = el("a", {class: "product-link", href: `/products/${product.id}`},
    picture, el("span", {class: "name"}, product.name));
  return el("li", {class: "product", "data-id": product.id}, link, money(product.price));
}

async function showProduct(current, id) {
  view.replaceChildren(el("p", {class: "message"}, "Loading…"));
  const {status, data} = await api(`/api/products/${encodeURIComponent(id)}`);
  if (current !== visit) return;
  if (status !== 200) {
    const text = status === 404 ? "No such product" : `Error ${status}`;
    view.replaceChildren(el("h1", {id: "not-found"}, text));
    return;
  }
  const added = el("p", {id: "added", class: "message"});
  const add = el("button", {id: "add-to-cart", type: "button"}, "Add to cart");
  add.onclick = async () => {
    const reply = await api("/api/cart", {product_id: data.id, quantity: 1});
    if (reply.status === 200) showCount(reply.data);
    added.textContent = reply.status === 200 ? "Added to cart" : `Error ${reply.status}`;
  };
  view.replaceChildren(el("div", {id: "product"},
    el("img", {src: data.image, alt: data.name, width: 240, height: 180}),
    el("div", {},
      el("h1", {id: "product-name"}, data.name),
      el("p", {}, money(data.price)),
      el("p", {}, data.description),
      add, added)));
}

async function showCart(current) {
  view.replaceChildren(el("h1", {}, "Cart"));
  const {status, data} = await api("/api/cart");
  if (current !== visit) return;
  if (status !== 200) {
    view.append(el("p", {class: "message"}, `Error ${status}`));
    return;
  }
  showCount(data);
  const rows = data.items.map((item) => el("li", {class: "cart-item"},
    el("span", {}, `${item.name} × ${item.quantity}`),
    money(item.price * item.quantity)));
  const message = el("p", {id: "checkout-message", class: "message"});
  const checkout = el("button", {id: "checkout", type: "button"}, "Check out");
  checkout.onclick = () => checkOut(current, message);
  view.append(
    rows.length ? el("ul", {id: "cart-items"}, ...rows)
      : el("p", {id: "cart-empty", class: "message"}, "Your cart is empty."),
    el("p", {}, "Total ", money(data.total)),
    checkout, message);
}

async function checkOut(current, message) {
  const {status, data} = await api("/api/checkout", {});
  if (current !== visit) return;
  if (status === 201) {
    cartCount.textContent = 0;
    navigate(`/orders/${data.order_id}`);
  } else if (status === 401) {
    message.replaceChildren("Please ", el("a", {href: "/login"}, "log in"),
      " to check out.");
  } else {
    message.textContent = status === 400 ? "Your cart is empty." : `Error ${status}`;
  }
}

function showLogin(current) {
  const username = el("input", {id: "username", name: "username",
    autocomplete: "username", "aria-label": "Username", placeholder: "Username"});
  const password = el("input", {id: "password", name: "password", type: "password",
    autocomplete: "current-password", "aria-label": "Password",
    placeholder: "Password"});
  const message = el("p", {id: "login-message", class: "message"});
  const form = el("form", {}, username, password,
    el("button", {id: "login-button", type: "submit"}, "Log in"), message);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const {status, data} = await api("/api/login",
      {username: username.value, password: password.value});
    if (current !== visit) return;
    if (status !== 200) {
      message.textContent = status === 401
        ? "Enter a username and a password." : `Error ${status}`;
      return;
    }
    message.replaceChildren("Logged in as ", el("strong", {id: "user-name"}, data.user));
    refreshCount();
  };
  view.replaceChildren(el("h1", {}, "Log in"), form);
}

function showOrder(current, id) {
  const line = el("p", {}, "Checking the order…");
  view.replaceChildren(el("h1", {}, "Order ", el("span", {id: "order-id"}, id)), line);
  // Ask every 250 ms until the order is confirmed or the user moves on.
  async function poll() {
    const {status, data} = await api(`/api/orders/${encodeURIComponent(id)}`);
    if (current !== visit) return;
    if (status === 404) {
      line.replaceChildren(el("span", {id: "not-found"}, "No such order"));
      return;
    }
    if (status === 200 || status === 202) {
      line.replaceChildren("Status: ", el("strong", {id: "order-status"}, data.status));
      if (data.status === "confirmed") return;
    }
    setTimeout(poll, 250);
  }
  poll();
}

// Search: ask as the user types, 300 ms after the last key.

let searchTimer = 0;
let searchAsked = 0;

function closeSearch() {
  searchResults.hidden = true;
  searchResults.replaceChildren();
}

search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(findProducts, 300);
});

async function findProducts() {
  const query = search.value.trim();
  const asked = ++searchAsked;
  if (!query) return closeSearch();
  const {status, data} = await api(`/api/search?q=${encodeURIComponent(query)}`);
  if (asked !== searchAsked) return;
  const results = status !== 200 ? [el("li", {class: "none"}, `Error ${status}`)]
    : data.products.map((product) => el("li", {class: "result"},
      el("a", {href: `/products/${product.id}`}, product.name), " ",
      money(product.price)));
  searchResults.replaceChildren(
    ...(results.length ? results : [el("li", {class: "none"}, "No products match")]));
  searchResults.hidden = false;
}

// Start: show the view of the address, and the cart count, which the cart
// view fetches anyway.

render();
if (location.pathname !== "/cart") refreshCount();
