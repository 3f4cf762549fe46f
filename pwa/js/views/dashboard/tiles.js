/**
 * The dashboard's KPI tiles. A rate with nothing behind it (no clock fell due in the period, nobody rated,
 * nothing was completed) says so in words instead of reading "— 0/0", which looks broken.
 */

import { esc } from '../../format.js';
import { t } from '../../i18n.js';
import { duration, number, percent, seconds } from './numbers.js';

// Complaints must all be called back within 3 days (DOMAIN.md): anything under 100 % is flagged.
const COMPLAINT_CALLBACK_TARGET = 1;

function tile(key, label, value, lines = [], tone = '') {
  return `<div class="kpi-tile ${tone}" data-kpi="${key}">
    <div class="kpi-label">${esc(label)}</div>
    <div class="kpi-value" data-value>${esc(value)}</div>
    ${lines.map((line) => `<div class="kpi-sub">${esc(line)}</div>`).join('')}
  </div>`;
}

/** A tile with nothing to measure in the period: the reason where the number would be explained. */
function emptyTile(key, label, why) {
  return `<div class="kpi-tile empty" data-kpi="${key}" data-empty>
    <div class="kpi-label">${esc(label)}</div>
    <div class="kpi-value" data-value>—</div>
    <div class="kpi-sub kpi-why" data-why>${esc(why)}</div>
  </div>`;
}

function rateTone(rate, target = null) {
  if (rate === null || rate === undefined) return 'empty';
  if (target !== null) return rate >= target ? 'good' : 'bad';
  if (rate >= 0.9) return 'good';
  return rate >= 0.7 ? 'fair' : 'bad';
}

function stepTile(key, label, step) {
  if (!step.due) return emptyTile(key, label, t('dash.nothingDue'));
  return tile(
    key,
    label,
    percent(step.onTimeRate),
    [
      t('dash.onTimeOf', { onTime: number(step.onTime), due: number(step.due) }),
      t('dash.median', { value: duration(step.medianMinutes) }),
      t('dash.p90', { value: duration(step.p90Minutes) }),
    ],
    rateTone(step.onTimeRate),
  );
}

function callbackTiles(callback) {
  return [
    callback.due
      ? tile(
          'callback',
          t('dash.callback'),
          percent(callback.onTimeRate),
          [t('dash.onTimeOf', { onTime: number(callback.onTime), due: number(callback.due) })],
          rateTone(callback.onTimeRate),
        )
      : emptyTile('callback', t('dash.callback'), t('dash.nothingDue')),
    callback.complaintsDue
      ? tile(
          'complaintCallback',
          t('dash.complaintCallback'),
          percent(callback.complaintRate),
          [
            t('dash.target', { target: percent(COMPLAINT_CALLBACK_TARGET) }),
            t('dash.calledOf', { called: number(callback.complaintsCalledInTime), due: number(callback.complaintsDue) }),
          ],
          rateTone(callback.complaintRate, COMPLAINT_CALLBACK_TARGET),
        )
      : emptyTile('complaintCallback', t('dash.complaintCallback'), t('dash.noComplaintCallbacksDue')),
  ];
}

function satisfactionTile(satisfaction) {
  if (!satisfaction.ratings) return emptyTile('satisfaction', t('dash.satisfaction'), t('dash.noRatings'));
  return tile(
    'satisfaction',
    t('dash.satisfaction'),
    t('dash.outOfFive', { value: number(satisfaction.average, 2) }),
    [t('dash.satisfiedShare', { share: percent(satisfaction.satisfiedShare) }), t('dash.ratings', { count: number(satisfaction.ratings) })],
    rateTone(satisfaction.satisfiedShare),
  );
}

/** A complaint clock over the complaints received (first reply 24 h, same-day investigation, 72 h). */
function deskClockTile(key, label, clock) {
  if (!clock.due) return emptyTile(key, label, t('dash.nothingDue'));
  return tile(key, label, percent(clock.rate), [t('dash.onTimeOf', { onTime: number(clock.onTime), due: number(clock.due) })], rateTone(clock.rate));
}

function deskTiles(desk) {
  if (!desk) return [];
  return [
    deskClockTile('deskFirstReply', t('dash.tile.firstReply'), desk.firstReply),
    deskClockTile('deskInvestigation', t('dash.tile.investigation'), desk.investigation),
    deskClockTile('deskResolution', t('dash.tile.deskResolution'), desk.resolution),
    desk.received
      ? tile('deskHandled', t('dash.tile.handled'), percent(desk.handlingRate), [
          t('dash.handledOf', { handled: number(desk.handled), received: number(desk.received) }),
          t('dash.repeatsEscalated', { repeats: number(desk.repeats), escalated: number(desk.escalated) }),
        ], rateTone(desk.handlingRate))
      : emptyTile('deskHandled', t('dash.tile.handled'), t('dash.noComplaintsReceived')),
  ];
}

/** Suggestions and praise received in the period (建议/表扬), and the share answered (docs/REPORTS.md). */
function feedbackTiles(feedback) {
  if (!feedback) return [];
  return [
    tile('feedback', t('dash.tile.feedback'), number(feedback.total), [
      t('dash.feedbackSplit', { suggestions: number(feedback.suggestions), praise: number(feedback.praise) }),
    ]),
    feedback.total
      ? tile('feedbackAnswered', t('dash.tile.feedbackAnswered'), percent(feedback.answeredRate), [
          t('dash.answeredOf', { answered: number(feedback.answered), total: number(feedback.total) }),
        ], rateTone(feedback.answeredRate))
      : emptyTile('feedbackAnswered', t('dash.tile.feedbackAnswered'), t('dash.noFeedback')),
  ];
}

/** Appointments agreed with owners that were kept (arrived by the agreed time plus 30 min). */
function appointmentTile(appointments) {
  if (!appointments || !appointments.due) return emptyTile('appointments', t('dash.tile.appointments'), t('dash.nothingDue'));
  return tile(
    'appointments',
    t('dash.tile.appointments'),
    percent(appointments.rate),
    [t('dash.keptOf', { kept: number(appointments.kept), due: number(appointments.due) })],
    rateTone(appointments.rate),
  );
}

/** Promises to owners kept on time, of those due and decided in the period (docs/REPORTS.md). */
function promiseTile(promises) {
  if (!promises || !promises.due) return emptyTile('promises', t('dash.tile.promises'), t('dash.nothingDue'));
  return tile(
    'promises',
    t('dash.tile.promises'),
    percent(promises.rate),
    [t('dash.promisesDetail', { kept: number(promises.keptOnTime), due: number(promises.due), late: number(promises.keptLate), broken: number(promises.broken) })],
    rateTone(promises.rate),
  );
}

/** Each callback campaign: the reach rate of the calls worked in the period, satisfaction, still open. */
function campaignTiles(campaigns) {
  if (!campaigns) return [];
  return ['routineSample', 'moveIn'].map((key) => {
    const c = campaigns[key];
    const name = t(`dash.tile.campaign.${key}`);
    if (!c || !c.worked) return emptyTile(`campaign-${key}`, name, t('dash.campaignNoneWorked', { open: number(c ? c.open : 0) }));
    return tile(
      `campaign-${key}`,
      name,
      percent(c.reachRate),
      [
        t('dash.campaignReached', { reached: number(c.reached), worked: number(c.worked), noAnswer: number(c.noAnswer), refused: number(c.refused) }),
        c.rated ? t('dash.campaignSatisfaction', { value: number(c.satisfactionAverage, 2), count: number(c.rated) }) : t('dash.noRatings'),
        t('dash.campaignOpen', { open: number(c.open), followUps: number(c.followUps) }),
      ],
      rateTone(c.reachRate),
    );
  });
}

/** The seeds' drivers weighted 32/28/20, and the net promoter score (docs/REPORTS.md). */
function driverTiles(satisfaction) {
  const driver = (v) => (v === null || v === undefined ? '—' : number(v, 2));
  return [
    satisfaction.weighted === null || satisfaction.weighted === undefined
      ? emptyTile('weighted', t('dash.tile.weighted'), t('dash.noRatings'))
      : tile('weighted', t('dash.tile.weighted'), t('dash.outOfFive', { value: number(satisfaction.weighted, 2) }), [
          t('dash.weightedDetail', { speed: driver(satisfaction.speed), attitude: driver(satisfaction.attitude), quality: driver(satisfaction.quality) }),
        ]),
    satisfaction.recommendAnswers
      ? tile('nps', t('dash.tile.nps'), number(satisfaction.nps, 1), [t('dash.npsDetail', { count: number(satisfaction.recommendAnswers) })], satisfaction.nps >= 0 ? 'good' : 'bad')
      : emptyTile('nps', t('dash.tile.nps'), t('dash.noRatings')),
  ];
}

function reopenTile(reopen) {
  if (!reopen.completed) return emptyTile('reopen', t('dash.reopen'), t('dash.nothingCompleted'));
  return tile(
    'reopen',
    t('dash.reopen'),
    percent(reopen.rate),
    [t('dash.reopenedOf', { reopened: number(reopen.reopened), completed: number(reopen.completed) })],
    reopen.rate > 0.05 ? 'bad' : 'good',
  );
}

function alarmTiles(alarms) {
  return [
    tile(
      'alarms',
      t('dash.alarms'),
      number(alarms.total),
      [t('dash.unacknowledged', { count: number(alarms.unacknowledged) })],
      alarms.unacknowledged > 0 ? 'bad' : alarms.total ? 'good' : 'empty',
    ),
    alarms.acknowledged
      ? tile(
          'alarmAck',
          t('dash.alarmAck'),
          seconds(alarms.ackP50Seconds),
          [t('dash.p95', { value: seconds(alarms.ackP95Seconds) }), t('dash.ackedOf', { acked: number(alarms.acknowledged), total: number(alarms.total) })],
          alarms.unacknowledged > 0 ? 'fair' : 'good',
        )
      : emptyTile('alarmAck', t('dash.alarmAck'), alarms.total ? t('dash.noneAcknowledged') : t('dash.noAlarms')),
  ];
}

/** Every tile of a report. */
export function tiles(report) {
  const { now } = report;
  return [
    stepTile('response', t('dash.response'), report.response),
    stepTile('arrival', t('dash.arrival'), report.arrival),
    stepTile('resolution', t('dash.resolution'), report.resolution),
    ...callbackTiles(report.callback),
    ...deskTiles(report.desk),
    ...feedbackTiles(report.feedback),
    appointmentTile(report.appointments),
    promiseTile(report.promises),
    ...campaignTiles(report.campaigns),
    satisfactionTile(report.satisfaction),
    ...driverTiles(report.satisfaction),
    reopenTile(report.reopen),
    tile('total', t('dash.total'), number(report.total), [t('dash.inPeriod')]),
    tile('open', t('dash.openNow'), number(now.open), [t('dash.rightNow')]),
    tile('overdue', t('dash.overdueNow'), number(now.overdue), [t('dash.rightNow')], now.overdue > 0 ? 'bad' : 'good'),
    ...alarmTiles(report.alarms),
  ].join('');
}
