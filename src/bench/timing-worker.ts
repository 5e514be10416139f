/** Child process of timing.ts: runs one timing cell and sends the result back. */
import { timeCell, TimingJob } from './timing';

process.once('message', (job: TimingJob) => {
  timeCell(job)
    .then((result) => process.send?.({ result }))
    .catch((e: Error) => process.send?.({ error: e.message }))
    .finally(() => process.disconnect?.());
});
