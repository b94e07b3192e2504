// Progressive enhancement only: every page works without JavaScript.
import { initAll } from './govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// Show a follow-up ("what action is planned?") only while the chosen answer is a gap.
// Without JavaScript every follow-up stays visible, with a hint saying when to answer it.
for (const block of document.querySelectorAll('[data-follow-up-for]')) {
  const key = block.dataset.followUpFor
  const gapValues = (block.dataset.gapValues || '').split(' ').filter(Boolean)
  const radios = document.querySelectorAll(`input[type="radio"][name="${key}"]`)
  if (!gapValues.length || !radios.length) continue
  const update = () => {
    const chosen = [...radios].find((radio) => radio.checked)
    block.hidden = !(chosen && gapValues.includes(chosen.value))
  }
  radios.forEach((radio) => radio.addEventListener('change', update))
  update()
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
