// Form building blocks: labelled inputs, submit handling with inline errors, vhost pickers.

import { get } from './api.js'
import { h, toast } from './dom.js'

let vhostCache = null

export async function vhostNames () {
  vhostCache ||= get('/api/vhosts?columns=name').then(list => list.map(v => v.name).sort())
  try {
    return await vhostCache
  } catch (e) {
    vhostCache = null
    throw e
  }
}

export function forgetVhosts () {
  vhostCache = null
}

export function input (name, attrs = {}) {
  return h('input', { name, type: 'text', autocomplete: 'off', ...attrs })
}

export function textarea (name, attrs = {}) {
  return h('textarea', { name, rows: 3, spellcheck: 'false', ...attrs })
}

export function select (name, options, value) {
  return h('select', { name },
    options.map(o => {
      const [v, label] = Array.isArray(o) ? o : [o, o]
      return h('option', { value: v, selected: v === value }, label)
    }))
}

export function checkbox (name, label, checked = false) {
  return h('label', { class: 'inline' }, h('input', { type: 'checkbox', name, checked }), ' ', label)
}

/** A labelled row; ``hint`` is linked with aria-describedby. */
export function field (label, control, hint) {
  const target = control.matches('input, select, textarea') ? control : control.querySelector('input, select, textarea')
  const row = h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control)
  if (hint) {
    const id = `hint-${Math.random().toString(36).slice(2)}`
    target?.setAttribute('aria-describedby', id)
    row.append(h('small', { id, class: 'hint' }, hint))
  }
  return row
}

/** A select of the vhosts, preselected with ``value``; ``all`` adds an "All" option. */
export function vhostSelect (name = 'vhost', { value, all = false } = {}) {
  const el = h('select', { name, required: !all })
  vhostNames().then(names => {
    if (all) el.append(h('option', { value: '' }, 'All virtual hosts'))
    for (const n of names) el.append(h('option', { value: n, selected: n === value }, n))
  }).catch(() => {})
  return el
}

/** The values of a form's named controls; checkboxes become booleans. */
export function values (form) {
  const out = {}
  for (const el of form.elements) {
    if (!el.name) continue
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value
  }
  return out
}

/** Parses an optional JSON object field; throws a readable error. */
export function jsonObject (text, what) {
  if (!text || !text.trim()) return {}
  let value
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error(`${what} must be valid JSON`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object`)
  }
  return value
}

/**
 * A form that calls ``onSubmit(values, form)``; failures show inside the form, success
 * shows ``done`` (a string or values => string) as a toast.
 */
export function form ({ id, submit, fields, onSubmit, done, className = '' }) {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true })
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, submit)
  const el = h('form', { id, class: `form ${className}`, novalidate: false }, fields, error,
    h('div', { class: 'actions' }, button))
  el.addEventListener('submit', async event => {
    event.preventDefault()
    error.hidden = true
    button.disabled = true
    try {
      const data = values(el)
      await onSubmit(data, el)
      if (done) toast(typeof done === 'function' ? done(data) : done)
    } catch (e) {
      error.textContent = e.message
      error.hidden = false
    } finally {
      button.disabled = false
    }
  })
  return el
}
