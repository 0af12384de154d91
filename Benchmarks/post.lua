-- wrk script: POST a typical `message` event body, as Relevo would, straight to the panel.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"field":"messages","object":"message_event","event_type":"ping","timestamp":1795621925640,"project_id":"0531600f59ac25ff6af4b32f","room_id":"f8c770c96d73b6874d0b048e","contact":{"id":"ana","name":"Ana Diaz"},"conversation":{"id":"145346242fe71659c833be1c"},"bot":{"id":"sales-bot","name":"Sales Bot"},"value":{"id":"wamid-1","type":"text","content":{"body":"benchmark message"}}}'
