'use strict';

exports.handler = async (event, context) => {
  const logger = context.getLogger();
  logger.info('received event: ' + JSON.stringify(event));
  const name = event && typeof event === 'object' && event.name ? event.name : 'world';
  return { message: `Hello, ${name}!`, event };
};
