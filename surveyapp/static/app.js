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
