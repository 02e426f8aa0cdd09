// DOM building and number formatting. Every value from the API goes in as text, never HTML.

const SVG_NS = 'http://www.w3.org/2000/svg'

function build (el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value)
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value)
    } else if (key === 'value' && 'value' in el) {
      el.value = value
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'required') {
      el[key] = Boolean(value)
    } else {
      el.setAttribute(key, value === true ? '' : String(value))
    }
  }
  append(el, children)
  return el
}

/** Appends children, skipping null/undefined/false (unlike Element.append). */
export function add (el, ...children) {
  append(el, children)
  return el
}

function append (el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
}

/** h('a', { href: '#/queues', class: 'x' }, 'Queues') */
export function h (tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children)
}

export function svg (tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children)
}

export function clear (el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

export const fmt = {
  num (n) {
    return n === undefined || n === null ? '–' : integer.format(n)
  },
  rate (n) {
    if (n === undefined || n === null) return '–'
    return (Math.abs(n) < 10 && n !== 0 ? decimal : integer).format(n) + '/s'
  },
  short (n) {
    const abs = Math.abs(n)
    for (const [size, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
      if (abs >= size) return decimal.format(n / size) + suffix
    }
    return decimal.format(n)
  },
  bytes (n) {
    if (n === undefined || n === null) return '–'
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
    let i = 0
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++ }
    return `${i ? decimal.format(n) : integer.format(n)} ${units[i]}`
  },
  duration (ms) {
    let s = Math.floor(ms / 1000)
    const parts = []
    for (const [size, unit] of [[86400, 'd'], [3600, 'h'], [60, 'm']]) {
      if (s >= size) { parts.push(Math.floor(s / size) + unit); s %= size }
    }
    if (parts.length < 2) parts.push(s + 's')
    return parts.slice(0, 2).join(' ')
  },
  time (ms) {
    return new Date(ms).toLocaleString()
  },
  json (value) {
    return value && typeof value === 'object' && Object.keys(value).length
      ? JSON.stringify(value)
      : ''
  }
}

/** A short-lived message in the corner; errors stay until dismissed. */
export function toast (message, kind = 'ok') {
  const box = document.getElementById('toasts')
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×')
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, message), close)
  close.addEventListener('click', () => el.remove())
  box.append(el)
  if (kind !== 'error') setTimeout(() => el.remove(), 4000)
}

/** Resolves true when the user confirms ``question`` in a modal dialog. */
export function confirm (question, action = 'Delete') {
  const dialog = h('dialog', { class: 'confirm', 'aria-label': 'Confirm' },
    h('form', { method: 'dialog' },
      h('p', {}, question),
      h('div', { class: 'actions' },
        h('button', { value: 'cancel', class: 'btn' }, 'Cancel'),
        h('button', { value: 'ok', class: 'btn btn-danger' }, action))))
  document.body.append(dialog)
  dialog.showModal()
  return new Promise(resolve => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok')
      dialog.remove()
    })
  })
}

/** A titled card: ``section(title, ...children)``. */
export function card (title, ...children) {
  const id = 'card-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-')
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, title), ...children)
}

/** A definition list of label/value pairs (values may be nodes). */
export function details (pairs) {
  return h('dl', { class: 'details' },
    pairs.filter(p => p).map(([label, value]) => [h('dt', {}, label), h('dd', {}, value ?? '–')]))
}

export function debounce (fn, ms = 250) {
  let timer
  return (...args) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
}
