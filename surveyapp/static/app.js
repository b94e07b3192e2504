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
