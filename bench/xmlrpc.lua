-- wrk script: one XML-RPC call per request, exactly the bytes Python's xmlrpc.client sends for
-- ServerProxy(...).display('issue1', 'title', 'status') (Roundup's documented session).
--
--   wrk -s bench/xmlrpc.lua -H "Authorization: ..." http://HOST:PORT/demo/xmlrpc
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
wrk.body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>display</methodName>\n<params>\n" ..
  "<param>\n<value><string>issue1</string></value>\n</param>\n" ..
  "<param>\n<value><string>title</string></value>\n</param>\n" ..
  "<param>\n<value><string>status</string></value>\n</param>\n" ..
  "</params>\n</methodCall>\n"
