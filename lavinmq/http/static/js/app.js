// The shell: login, navigation by location hash, and the periodic refresh of the open page.

import { ApiError, api, auth, get } from './api.js'
import { clear, h, toast } from './dom.js'

const ROUTES = [
  [/^(overview)?$/, 'overview'],
  [/^connections$/, 'connections'],
  [/^connections\/(.+)$/, 'connection'],
  [/^channels$/, 'channels'],
  [/^exchanges$/, 'exchanges'],
  [/^exchanges\/([^/]+)\/([^/]+)$/, 'exchange'],
  [/^queues$/, 'queues'],
  [/^queues\/([^/]+)\/([^/]+)$/, 'queue'],
  [/^users$/, 'users'],
  [/^users\/([^/]+)$/, 'user'],
  [/^vhosts$/, 'vhosts'],
  [/^policies$/, 'policies'],
  [/^shovels$/, 'shovels'],
  [/^federation$/, 'federation'],
  [/^definitions$/, 'definitions']
]
const REFRESH_KEY = 'lavinmq.refresh'
const $ = id => document.getElementById(id)

let whoami = null
let current = null // { controller, refreshers }
let timer = null
let refreshing = false

function refreshInterval () {
  return Number(window.localStorage.getItem(REFRESH_KEY) || 5000)
}

function showLogin (message) {
  stopPage()
  document.body.classList.remove('signed-in')
  $('app').hidden = true
  $('login').hidden = false
  const error = $('login-error')
  error.textContent = message || ''
  error.hidden = !message
  $('login-username').focus()
}

async function signIn (event) {
  event.preventDefault()
  const form = event.target
  const button = form.querySelector('button[type=submit]')
  button.disabled = true
  try {
    auth.set(form.username.value, form.password.value)
    whoami = await api('GET', '/api/whoami', undefined, { credentials: auth.get() })
    form.reset()
    await start()
  } catch (e) {
    auth.clear()
    showLogin(e instanceof ApiError && e.status === 401 ? 'Wrong username or password' : e.message)
  } finally {
    button.disabled = false
  }
}

function signOut () {
  auth.clear()
  whoami = null
  showLogin()
}

async function start () {
  $('login').hidden = true
  $('app').hidden = false
  document.body.classList.add('signed-in')
  const tags = Array.isArray(whoami.tags) ? whoami.tags : String(whoami.tags || '').split(',')
  $('current-user').textContent = whoami.name
  document.querySelectorAll('[data-requires]').forEach(el => {
    el.hidden = !tags.includes('administrator') && !el.dataset.requires.split(' ').some(t => tags.includes(t))
  })
  get('/api/overview').then(o => {
    $('version').textContent = o.product_version
    $('cluster').textContent = o.cluster_name
  }).catch(() => {})
  await route()
}

function stopPage () {
  if (current) current.controller.abort()
  current = null
  clearTimeout(timer)
}

async function route () {
  if (!auth.get()) return showLogin()
  stopPage()
  const path = window.location.hash.replace(/^#\/?/, '').split('?')[0]
  let name = 'notfound'
  let params = []
  for (const [re, page] of ROUTES) {
    const m = path.match(re)
    if (m) {
      name = page
      params = m.slice(1).filter(p => p !== undefined).map(decodeURIComponent)
      break
    }
  }
  const main = $('main')
  const controller = new AbortController()
  const page = { controller, refreshers: [] }
  current = page
  const section = '#/' + (path.split('/')[0] || 'overview')
  document.querySelectorAll('#nav a').forEach(a => {
    a.getAttribute('href') === section ? a.setAttribute('aria-current', 'page') : a.removeAttribute('aria-current')
  })
  // Each visit renders into its own element: a page still loading when the user moves on
  // keeps writing into a detached one.
  const root = h('div', { class: 'page' })
  main.setAttribute('aria-busy', 'true')
  clear(main, root)
  const ctx = {
    main: root,
    params,
    whoami,
    signal: controller.signal,
    title (text) {
      if (current === page) document.title = `${text} · LavinMQ`
      return h('h1', { class: 'page-title' }, text)
    },
    every (fn) { page.refreshers.push(fn) },
    navigate (hash) { window.location.hash = hash }
  }
  try {
    if (name === 'notfound') throw new ApiError(404, `No page at #/${path}`)
    const module = await import(`./pages/${name}.js`)
    await module.default(ctx)
    if (current !== page) return
    await refresh(page)
  } catch (e) {
    if (current !== page || e.name === 'AbortError') return
    clear(root, ctx.title(e.status === 404 ? 'Not found' : 'Error'), h('p', { class: 'form-error' }, e.message))
  } finally {
    main.removeAttribute('aria-busy')
  }
  schedule()
}

async function refresh (page) {
  if (refreshing) return
  refreshing = true
  try {
    for (const fn of page.refreshers) {
      if (page.controller.signal.aborted) break
      await fn()
    }
    $('stale').hidden = true
  } catch (e) {
    if (e.status === 401 || page.controller.signal.aborted) return
    const stale = $('stale')
    stale.textContent = `Could not refresh: ${e.message}`
    stale.hidden = false
  } finally {
    refreshing = false
  }
}

function schedule () {
  clearTimeout(timer)
  const interval = refreshInterval()
  if (!interval) return
  timer = setTimeout(async () => {
    const page = current
    if (page && !document.hidden) await refresh(page)
    if (page === current) schedule()
  }, interval)
}

function init () {
  $('login-form').addEventListener('submit', signIn)
  $('sign-out').addEventListener('click', signOut)
  const select = $('refresh')
  select.value = String(refreshInterval())
  select.addEventListener('change', () => {
    window.localStorage.setItem(REFRESH_KEY, select.value)
    schedule()
  })
  // After in-app navigation, start keyboard and screen reader users at the new page
  window.addEventListener('hashchange', () => route().then(() => $('main').focus({ preventScroll: true })))
  window.addEventListener('lavinmq:logout', e => showLogin(`Signed out: ${e.detail}`))
  window.addEventListener('unhandledrejection', e => {
    if (e.reason instanceof ApiError && e.reason.status === 401) return
    toast(e.reason?.message || String(e.reason), 'error')
  })
  if (!auth.get()) return showLogin()
  api('GET', '/api/whoami').then(w => { whoami = w; return start() }).catch(() => showLogin())
}

init()
