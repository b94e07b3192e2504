// Progressive enhancement only: every page works without JavaScript.
import { initAll } from './govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// A radio question's follow-up ("what action is planned?") is revealed under its gap answers by GOV.UK
// Frontend's conditional reveal, which sets aria-expanded and aria-controls. Its fields are drawn once,
// under one gap answer, so they post once: move them under whichever gap answer is chosen. Without
// JavaScript every reveal shows, the fields under the first gap, with a hint saying when to answer.
for (const block of document.querySelectorAll('.govuk-radios__conditional > [data-follow-up-for]')) {
  const radios = [...document.querySelectorAll(`input[type="radio"][name="${block.dataset.followUpFor}"][aria-controls]`)]
  const follow = () => {
    const chosen = radios.find((radio) => radio.checked)
    const target = chosen && document.getElementById(chosen.getAttribute('aria-controls'))
    if (!target || target.contains(block)) return
    const home = block.parentElement
    home.replaceChildren(...target.childNodes)
    target.replaceChildren(block)
  }
  radios.forEach((radio) => radio.addEventListener('change', follow))
}

// Show a question that depends on an earlier answer on this page only while that answer calls for it.
// Without JavaScript every such question stays visible, with a line saying when to answer it; an answer
// to a question that is not needed is cleared when the page is saved.
for (const block of document.querySelectorAll('[data-condition-question]')) {
  const key = block.dataset.conditionQuestion
  const values = (block.dataset.conditionValues || '').split(' ').filter(Boolean)
  const radios = document.querySelectorAll(`input[type="radio"][name="${key}"]`)
  if (!radios.length) continue
  const update = () => {
    const chosen = [...radios].find((radio) => radio.checked)
    block.hidden = !(chosen && values.includes(chosen.value))
  }
  radios.forEach((radio) => radio.addEventListener('change', update))
  update()
}

// Arriving at a field named in the address (a link from the check answers page to a follow-up
// still to do), with no error summary to take the focus: focus that field, with its label and
// error message in view.
const landing = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)))
if (landing && landing.matches('input, textarea, select') && !document.querySelector('.govuk-error-summary')) {
  const group = landing.closest('.govuk-form-group--error') || landing.closest('.govuk-form-group')
  landing.focus({ preventScroll: true })
  // After the browser's own jump to the fragment, which would hide the label and error above the field.
  window.addEventListener('load', () => requestAnimationFrame(() => { if (group) group.scrollIntoView() }))
}

// A job's page follows the job while it runs: the message and bar update (the message is a polite live
// region), and the page reloads once to show the result. Without JavaScript a link refreshes the page.
const job = document.querySelector('[data-job-progress-url]')
if (job && ['queued', 'running'].includes(job.dataset.jobState)) {
  const message = document.getElementById('job-message')
  const bar = document.getElementById('job-progress-bar')
  const state = document.getElementById('job-state')
  const follow = async () => {
    try {
      const reply = await fetch(job.dataset.jobProgressUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (reply.ok) {
        const progress = await reply.json()
        // Once when the work is found lost, to say so and offer to start it again.
        if (progress.finished || (progress.stalled && job.dataset.jobStalled !== 'true')) {
          window.location.reload()
          return
        }
        if (message && message.textContent !== progress.message) message.textContent = progress.message
        if (state) state.textContent = progress.state_label
        if (bar) {
          bar.max = progress.total || 1
          bar.value = progress.done
        }
      }
    } catch (error) {
      // A lost connection is tried again on the next turn.
    }
    window.setTimeout(follow, 1500)
  }
  window.setTimeout(follow, 1000)
}
