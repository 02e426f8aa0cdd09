// Pieces shared by several pages: links to objects, feature tags, publish and binding forms.

import { del, get, post, url } from './api.js'
import { LineChart, ratesFromSamples } from './chart.js'
import { clear, confirm, fmt, h, toast } from './dom.js'
import { field, form, input, jsonObject, select, textarea } from './forms.js'

export const RATES_AGE = 300 // seconds of history the charts ask for

export const link = {
  queue: (vhost, name) => h('a', { href: `#/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}` }, name),
  exchange: (vhost, name) => h('a', { href: `#/exchanges/${encodeURIComponent(vhost)}/${encodeURIComponent(name || 'amq.default')}` }, name || '(AMQP default)'),
  connection: name => h('a', { href: `#/connections/${encodeURIComponent(name)}` }, name),
  user: name => h('a', { href: `#/users/${encodeURIComponent(name)}` }, name)
}

export function tags (list) {
  return list.filter(Boolean).map(([text, title]) => h('abbr', { class: 'tag', title }, text))
}

/** D (durable), AD (auto-delete), Excl, I (internal) and one tag per argument. */
export function features (row) {
  return tags([
    row.durable && ['D', 'Durable'],
    row.auto_delete && ['AD', 'Auto-delete'],
    row.exclusive && ['Excl', 'Exclusive'],
    row.internal && ['I', 'Internal'],
    ...Object.entries(row.arguments || {}).map(([k, v]) => [k.replace(/^x-/, ''), `${k}: ${JSON.stringify(v)}`])
  ])
}

export function rate (stats, key) {
  return fmt.rate(stats?.[`${key}_details`]?.rate ?? 0)
}

export function rateChart (el, title, keys) {
  const chart = new LineChart(el, {
    title,
    series: keys.map(([key, label]) => ({ key, label })),
    legendFormat: fmt.rate,
    windowMs: RATES_AGE * 1000
  })
  return {
    chart,
    update: stats => chart.update(ratesFromSamples(stats, keys.map(k => k[0])))
  }
}

const DELIVERY_MODES = [['1', 'Transient (1)'], ['2', 'Persistent (2)']]

/** Publish one message through ``exchange`` (the default exchange for a queue page), then ``onPublished()``. */
export function publishForm (vhost, exchange, routingKey = '', onPublished = () => {}) {
  const payload = textarea('payload', { rows: 5, 'aria-label': 'Payload' })
  return form({
    id: 'publish-form',
    submit: 'Publish message',
    className: 'wide',
    fields: [
      h('div', { class: 'form-row' },
        field('Routing key', input('routing_key', { value: routingKey })),
        field('Delivery mode', select('delivery_mode', DELIVERY_MODES, '2')),
        field('Content type', input('content_type', { placeholder: 'text/plain' }))),
      field('Headers', textarea('headers', { rows: 2, placeholder: '{"x-key": "value"}' }), 'A JSON object'),
      field('Other properties', textarea('properties', { rows: 2, placeholder: '{"priority": 1, "expiration": "60000"}' }),
        'A JSON object: correlation_id, message_id, priority, expiration, reply_to, type, app_id…'),
      field('Payload', payload),
      h('div', { class: 'form-row' },
        field('Payload encoding', select('payload_encoding', [['string', 'String'], ['base64', 'Base64']], 'string')))
    ],
    async onSubmit (v) {
      const properties = {
        ...jsonObject(v.properties, 'Other properties'),
        delivery_mode: Number(v.delivery_mode)
      }
      const headers = jsonObject(v.headers, 'Headers')
      if (Object.keys(headers).length) properties.headers = headers
      if (v.content_type) properties.content_type = v.content_type
      const res = await post(url`/api/exchanges/${vhost}/${exchange || 'amq.default'}/publish`, {
        routing_key: v.routing_key,
        payload: v.payload,
        payload_encoding: v.payload_encoding,
        properties
      })
      toast(res.routed ? 'Message published' : 'Message published, but not routed to any queue', res.routed ? 'ok' : 'error')
      await onPublished()
    }
  })
}

function bindingPath (b) {
  const kind = b.destination_type === 'queue' ? 'q' : 'e'
  // properties_key is already URL-quoted; the API wants it quoted once more, as RabbitMQ's
  return url`/api/bindings/${b.vhost}/e/${b.source}/` + kind + url`/${b.destination}/${b.properties_key}`
}

/** A table of bindings with an unbind button each (not for the default exchange's). */
export function bindingsList (rows, { side, onChange }) {
  const body = rows.length
    ? rows.map(b => h('tr', {},
      h('td', {}, side === 'source'
        ? (b.destination_type === 'queue' ? link.queue(b.vhost, b.destination) : link.exchange(b.vhost, b.destination))
        : link.exchange(b.vhost, b.source)),
      h('td', {}, side === 'source' ? b.destination_type : ''),
      h('td', { class: 'mono' }, b.routing_key),
      h('td', { class: 'mono' }, fmt.json(b.arguments)),
      h('td', {}, b.source === ''
        ? h('span', { class: 'muted' }, 'default')
        : h('button', {
          type: 'button',
          class: 'btn btn-small btn-danger',
          async onclick () {
            if (!await confirm(`Remove the binding with routing key "${b.routing_key}"?`, 'Unbind')) return
            await del(bindingPath(b))
            toast('Binding removed')
            onChange()
          }
        }, 'Unbind'))))
    : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No bindings'))]
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, side === 'source' ? 'To' : 'From'),
      h('th', { scope: 'col' }, side === 'source' ? 'Type' : ''),
      h('th', { scope: 'col' }, 'Routing key'),
      h('th', { scope: 'col' }, 'Arguments'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, body))
}

/**
 * Binds ``fixed`` (the page's exchange or queue) to a named other end.
 * side 'source': the page's exchange is the source; otherwise the page's queue is the destination.
 */
export function bindForm (vhost, fixed, side, onChange) {
  const fields = side === 'source'
    ? [field('To', select('destination_type', [['queue', 'Queue'], ['exchange', 'Exchange']], 'queue')),
        field('Name', input('other', { required: true }))]
    : [field('From exchange', input('other', { required: true }))]
  return form({
    id: 'bind-form',
    submit: 'Bind',
    className: 'wide',
    fields: [
      h('div', { class: 'form-row' }, fields, field('Routing key', input('routing_key'))),
      field('Arguments', textarea('arguments', { rows: 2, placeholder: '{"x-match": "all"}' }), 'A JSON object')
    ],
    async onSubmit (v, el) {
      const source = side === 'source' ? fixed : v.other
      const destination = side === 'source' ? v.other : fixed
      const kind = side === 'source' && v.destination_type === 'exchange' ? 'e' : 'q'
      await post(url`/api/bindings/${vhost}/e/${source}/` + kind + url`/${destination}`, {
        routing_key: v.routing_key,
        arguments: jsonObject(v.arguments, 'Arguments')
      })
      el.reset()
      onChange()
    },
    done: 'Binding added'
  })
}

/** Card body for bindings that reloads itself; returns { el, reload }. */
export function bindingsCard (path, side) {
  const el = h('div')
  async function reload () {
    clear(el, bindingsList(await get(path), { side, onChange: reload }))
  }
  return { el, reload }
}
