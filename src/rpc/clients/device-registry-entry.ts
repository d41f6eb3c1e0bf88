import type { DeviceCommandAckRecord, DeviceCommandRecord, DeviceRecord } from '../../controller/index.js';

/**
 * One device of the control plane's registry as every broker's metadata view holds it: the broker
 * holding its latest Control stream (0: none) with that broker's incarnation epoch, the connection
 * epoch, connected-since and last-seen times, its pending commands and its recent acks. The
 * controller's record is plain data already, so clients use it as it is.
 */
export type DeviceRegistryEntry = DeviceRecord;
export type { DeviceCommandAckRecord, DeviceCommandRecord };
