import { counterService } from './counter.ts';

export default counterService('dur');
