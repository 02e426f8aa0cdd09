// The management API over fetch, with HTTP Basic credentials kept in sessionStorage.

const KEY = 'lavinmq.auth'

export class ApiError extends Error {
  constructor (status, reason) {
    super(reason)
    this.status = status
  }
}

export const auth = {
  get () {
    return window.sessionStorage.getItem(KEY)
  },
  set (user, password) {
    // btoa only takes Latin-1: encode as UTF-8 bytes first, as the server decodes them
    const bytes = new TextEncoder().encode(`${user}:${password}`)
    window.sessionStorage.setItem(KEY, window.btoa(String.fromCharCode(...bytes)))
  },
  clear () {
    window.sessionStorage.removeItem(KEY)
  }
}

/** Template tag escaping each substitution as a path segment: url`/api/queues/${vhost}`. */
export function url (strings, ...params) {
  return strings.reduce((out, s, i) => out + encodeURIComponent(params[i - 1]) + s)
}

/** Appends the defined entries of ``params`` as a query string. */
export function query (path, params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v)
  }
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

/**
 * Calls the API; resolves to the parsed JSON body (null when there is none).
 * A 401 drops the stored credentials and tells the app to show the login form.
 */
export async function api (method, path, body, { headers = {}, signal, credentials } = {}) {
  const opts = {
    method,
    signal,
    headers: {
      Accept: 'application/json',
      'X-Requested-With': 'XMLHttpRequest', // no WWW-Authenticate challenge, no browser dialog
      ...headers
    }
  }
  const token = credentials ?? auth.get()
  if (token) opts.headers.Authorization = `Basic ${token}`
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json'
    opts.body = JSON.stringify(body)
  }
  const response = await window.fetch(path, opts)
  const text = await response.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = null
  }
  if (!response.ok) {
    const reason = (data && data.reason) || response.statusText || `HTTP ${response.status}`
    if (response.status === 401 && credentials === undefined) {
      auth.clear()
      window.dispatchEvent(new CustomEvent('lavinmq:logout', { detail: reason }))
    }
    throw new ApiError(response.status, reason)
  }
  return data
}

export const get = (path, opts) => api('GET', path, undefined, opts)
export const put = (path, body, opts) => api('PUT', path, body ?? {}, opts)
export const post = (path, body, opts) => api('POST', path, body ?? {}, opts)
export const del = (path, opts) => api('DELETE', path, undefined, opts)
