// Warn before the idle timeout ends the sign-in (WCAG 2.2.1), and offer to stay signed in.
// The sign-in ends after data-timeout-seconds without a request (surveyapp/security.py); the warning
// opens data-warning-seconds before that. Without JavaScript there is no warning, and a page posted
// after the timeout is kept until the user signs in again (surveyapp/audits/kept.py).
const dialog = document.getElementById('timeout-warning')

if (dialog && typeof dialog.showModal === 'function') {
  const timeout = Number(dialog.dataset.timeoutSeconds) * 1000
  const warning = Number(dialog.dataset.warningSeconds) * 1000
  const countdown = dialog.querySelector('[data-timeout-countdown]')
  const announce = dialog.querySelector('[data-timeout-announce]')
  const stayButton = dialog.querySelector('[data-timeout-stay]')
  // A second after the server's own limit, so the sign-in page finds the sign-in ended and says why.
  const grace = 1000

  // Every tab of the site shares one sign-in, and a request from any of them starts its idle time again.
  // So each tab notes when it last asked the server for something (loading its page, "Stay signed in"),
  // and counts from the latest of any tab's: a tab left open does not warn, or leave for the sign-in page,
  // while the user works in another. Without storage (blocked, private mode) each tab counts on its own.
  const lastRequestKey = 'surveyapp.last-request'
  const noteRequest = (at) => {
    try {
      window.localStorage.setItem(lastRequestKey, String(at))
    } catch (error) {}
  }
  const lastRequestAnywhere = () => {
    try {
      return Number(window.localStorage.getItem(lastRequestKey)) || 0
    } catch (error) {
      return 0
    }
  }
  let endsAt = 0
  // The page's own request, or "Stay signed in": the idle time starts again, for this tab and the others.
  const requested = () => {
    const now = Date.now()
    endsAt = now + timeout
    noteRequest(now)
  }
  requested()
  let returnFocusTo = null
  let lastSaid = ''
  let leaving = false

  const inWords = (seconds) => {
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60)
      return `${minutes} minute${minutes === 1 ? '' : 's'}`
    }
    return `${seconds} second${seconds === 1 ? '' : 's'}`
  }

  // Told to screen readers when the dialog opens (its description), then at each minute and at 30 and
  // 10 seconds: not every second, which would drown out everything else.
  const worthSaying = (seconds) => seconds > 0 && (seconds % 60 === 0 || seconds === 30 || seconds === 10)

  // Answers typed but not saved are posted as the sign-in ends: the server keeps them for this person
  // in this browser and gives them back after signing in again (audits/kept.py), instead of losing them.
  const unsaved = document.querySelector('form[data-keep-on-timeout]')
  let typed = false
  if (unsaved) {
    for (const kind of ['input', 'change']) unsaved.addEventListener(kind, () => { typed = true })
  }

  const signInAgain = () => {
    leaving = true
    if (unsaved && typed) {
      unsaved.submit()
      return
    }
    const here = window.location.pathname + window.location.search
    window.location.assign(`${dialog.dataset.signInUrl}?next=${encodeURIComponent(here)}`)
  }

  const open = () => {
    returnFocusTo = document.activeElement
    lastSaid = ''
    announce.textContent = ''
    dialog.showModal()
    stayButton.focus() // the action that loses nothing
  }

  const close = () => {
    dialog.close()
    if (returnFocusTo && typeof returnFocusTo.focus === 'function') returnFocusTo.focus()
  }

  const stay = async () => {
    try {
      const reply = await fetch(dialog.dataset.stayUrl, {
        method: 'POST',
        headers: { 'X-CSRFToken': dialog.dataset.csrfToken },
        credentials: 'same-origin',
        redirect: 'manual'
      })
      if (reply.status !== 204) {
        signInAgain() // the sign-in had already ended
        return
      }
    } catch (error) {
      return // offline: keep the warning open, the countdown goes on
    }
    requested()
    close()
  }

  const tick = () => {
    if (leaving) return
    endsAt = Math.max(endsAt, lastRequestAnywhere() + timeout)
    const left = endsAt - Date.now()
    if (left <= -grace) {
      signInAgain()
      return
    }
    if (left > warning) {
      if (dialog.open) close()
      return
    }
    if (!dialog.open) open()
    const seconds = Math.max(0, Math.ceil(left / 1000))
    countdown.textContent = inWords(seconds)
    const words = `We will sign you out in ${inWords(seconds)}.`
    if (worthSaying(seconds) && words !== lastSaid && seconds !== Math.ceil(warning / 1000)) {
      announce.textContent = words
      lastSaid = words
    }
  }

  stayButton.addEventListener('click', stay)
  // Escape is "stay signed in", never a silent dismissal that lets the sign-in run out.
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    stay()
  })
  // Keep Tab and Shift+Tab inside the dialog (showModal makes the page behind it inert, but not the
  // browser's own controls).
  dialog.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return
    const focusable = [...dialog.querySelectorAll('button, [href], input:not([type="hidden"])')]
    const first = focusable[0]
    const last = focusable[focusable.length - 1]
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault()
      first.focus()
    }
  })
  // Checked every second rather than one long timer: a timer sleeps with the laptop, the clock does not.
  window.setInterval(tick, 1000)
}
