package detect

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

// TestVerboseJSONTraces: stack traces put in a JSON string field, their
// newlines and tabs written as \n and \t.
func TestVerboseJSONTraces(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"java frames in a field", r(`{"status":500,"stackTrace":"java.lang.IllegalArgumentException: id must be positive\n\tat com.example.billing.InvoiceService.load(InvoiceService.java:88)\n\tat com.example.billing.InvoiceController.get(InvoiceController.java:31)"}`), "Java"},
		{"java frame with a module", r("Caused by: x\n\tat java.base/java.util.Objects.requireNonNull(Objects.java:233)"), "Java stack trace"},
		{"go frames in a field", r(`{"stack":"main.handler(0xc000010000)\n\t/srv/app/handler.go:41 +0x2a5\nnet/http.HandlerFunc.ServeHTTP()"}`), "Go stack trace"},
		{"go panic in a field", r(`{"error":"panic: assignment to entry in nil map\n\n/srv/app/cache.go:77"}`), "Go"},
		{"python frames in a field", r(`{"detail":"  File \"/usr/lib/python3.12/site-packages/app/views.py\", line 57, in get_order\n    return Order.objects.get(pk=pk)"}`), "Python traceback"},
		{"php stack trace in a field", r(`{"trace":"Stack trace:\n#0 /srv/app/src/Repo.php(23): App\\Repo->find()"}`), "PHP stack trace"},
		{"benign json with tabs and at", r(`{"note":"Meet\n\tat the cafe (Main St.)","eta":"10:30"}`), ""},
		{"benign java file name in a review", r(`{"comment":"see InvoiceService.java:88 for the rounding"}`), ""},
		{"benign go file mention", r(`{"readme":"Edit config.go:12 and restart"}`), ""},
	})
}

// TestVerboseExceptionNames: an exception's qualified name and message,
// without frames (Java, PHP namespaces, .NET with an HRESULT), and the
// error pages of Tomcat and Symfony.
func TestVerboseExceptionNames(t *testing.T) {
	r := func(ct, b string) *vigil.Exchange {
		return ex("GET", "https://a.test/o/1", resp(500, b, "Content-Type", ct))
	}
	const j, h = "application/json", "text/html"
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"java exception in a field", r(j, `{"error":"javax.persistence.EntityNotFoundException: Unable to find Account with id 9"}`), "Java exception"},
		{"hibernate exception", r(j, `{"message":"org.hibernate.exception.ConstraintViolationException: could not execute statement"}`), "Java exception"},
		{"tomcat report without frames", r(h, `<html><body><h1>HTTP Status 500 – Internal Server Error</h1><p><b>Type</b> Exception Report</p><p><b>Description</b> The server encountered an unexpected condition</p></body></html>`), "Tomcat"},
		{"servlet exception atop frames", r(h, "<pre>javax.servlet.ServletException: Handler dispatch failed\n\torg.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:199)\n</pre>"), "Java exception"},
		{"symfony trace", r(h, `<div class="trace-line"><a class="trace-file-path" href="#">vendor/symfony/http-kernel/HttpKernel.php</a> (line 181)</div>`), "Symfony"},
		{"php namespaced exception", r(h, `<title>Illuminate\Database\Eloquent\ModelNotFoundException: No query results for model [App\Models\Order] 55</title>`), "PHP exception"},
		{"php namespaced exception in json", r(j, `{"message":"Doctrine\\DBAL\\Exception\\DriverException: An exception occurred while executing a query"}`), "PHP exception"},
		{".net exception with hresult", r(j, `{"error":"System.IO.IOException (0x80070020): The process cannot access the file"}`), ".NET exception"},
		{"benign unqualified exception name", r(j, `{"error":"ValidationException: email is required"}`), ""},
		{"benign advice about exceptions", r(j, `{"tip":"Fix the NullPointerException: check com.example objects before use"}`), ""},
		{"benign report title", r(j, `{"name":"Monthly Exception Report","rows":3}`), ""},
		{"benign php class path", r(j, `{"model":"App\\Models\\Order","error":"not found"}`), ""},
		{"benign css class", r(h, `<div class="trace-line">Order shipped</div>`), ""},
		{"benign hex after exception", r(j, `{"ref":"ProjectException (0x1)"}`), ""},
	})
}

// TestVerbosePHPErrors: warnings, notices and deprecations that
// display_errors prints with the script's path and line.
func TestVerbosePHPErrors(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(200, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"html notice before json", r("<br />\n<b>Notice</b>:  Undefined index: email in <b>/home/site/public_html/api/login.php</b> on line <b>14</b><br />\n{\"ok\":false}"), "PHP error"},
		{"cli style deprecation", r("PHP Deprecated:  Function create_function() is deprecated in /srv/www/legacy/util.php on line 220\n[]"), "PHP error"},
		{"plain warning", r("Warning: Undefined variable $total in /app/public/cart.php on line 9\n{}"), "PHP error"},
		{"parse error", r("Parse error: syntax error, unexpected token \"}\" in /var/www/api/v2/index.php on line 31"), "PHP error"},
		{"benign warning on a line", r(`{"warning":"Warning: your parcel is on line 3 of the manifest"}`), ""},
		{"benign php file in docs", r(`{"doc":"Warning: edit settings.php carefully, the key is on line 12"}`), ""},
		{"benign bus line", r(`{"notice":"Notice: buses in town run on line 4 today"}`), ""},
	})
}

// TestVerboseDatabaseErrors: PostgreSQL, SQL Server and Go database/sql
// error text, reported at high severity.
func TestVerboseDatabaseErrors(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	cases := []detCase{
		{"lib/pq prefix", r(`{"error":"pq: duplicate key value violates unique constraint \"users_email_key\""}`), "PostgreSQL"},
		{"missing column with sqlstate", r(`{"message":"ERROR: column \"createdat\" does not exist (SQLSTATE 42703)"}`), "PostgreSQL"},
		{"node-postgres missing relation", r(`error: relation "public.sessions" does not exist`), "PostgreSQL"},
		{"type input", r(`{"error":"invalid input syntax for type uuid: \"12\""}`), "PostgreSQL"},
		{"at or near", r(`{"error":"ERROR: zero-length delimited identifier at or near \"\"\"\""}`), "PostgreSQL"},
		{"jdbc driver", r(`{"error":"org.postgresql.util.PSQLException: The column index is out of range: 3, number of columns: 2."}`), "PostgreSQL"},
		{"pgx sqlstate", r(`{"error":"insert: ERROR: null value in column \"sku\" violates not-null constraint (SQLSTATE 23502)"}`), "PostgreSQL"},
		{"go database/sql arguments", r(`{"error":"sql: expected 3 arguments, got 2"}`), "database/sql"},
		{"go database/sql converting", r(`{"error":"sql: converting argument $1 type: unsupported type []string"}`), "database/sql"},
		{"sqlclient exception", r(`{"error":"Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid column name 'Emial'."}`), "SQL Server"},
		{"sql server syntax", r(`{"error":"Incorrect syntax near 'OR'."}`), "SQL Server"},
		{"sql server conversion", r(`{"error":"Conversion failed when converting date and/or time from character string."}`), "SQL Server"},
		{"benign missing user", r(`{"error":"user \"bob\" does not exist"}`), ""},
		{"benign missing table booking", r(`{"error":"table \"12\" does not exist for this restaurant"}`), ""},
		{"benign spreadsheet column", r(`{"error":"Column \"Price\" does not exist in the uploaded sheet"}`), ""},
		{"benign at or near", r(`{"message":"The shop is located at or near \"Main Street\""}`), ""},
		{"benign sqlstate docs", r(`{"doc":"SQLSTATE codes are listed in the appendix"}`), ""},
		{"benign sql prefix in search help", r(`{"help":"Use the sql: prefix to search saved queries"}`), ""},
		{"benign conversion text", r(`{"text":"Conversion rate failed to update"}`), ""},
		{"benign invalid input", r(`{"error":"invalid input: quantity must be positive"}`), ""},
		{"benign syntax near", r(`{"error":"Incorrect syntax near line 3 of your CSV"}`), ""},
	}
	runCases(t, NewVerbose(), "detect.misconfig.verbose", cases)
	wantHighSeverity(t, cases)
}

// TestVerboseCORSInsecureOrigin: an https API that lets a plain-http page
// of its own site read credentialed responses.
func TestVerboseCORSInsecureOrigin(t *testing.T) {
	c := func(api, origin string) *vigil.Exchange {
		return ex("GET", api, hdr("Origin", origin), resp(200, "{}", "Access-Control-Allow-Origin", origin, "Access-Control-Allow-Credentials", "true"))
	}
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"http sibling", c("https://api.shop.test/me", "http://www.shop.test"), "plain-http"},
		{"http sibling with port", c("https://api.shop.test/me", "http://app.shop.test:8080"), "plain-http"},
		{"benign https sibling", c("https://api.shop.test/me", "https://www.shop.test"), ""},
		{"benign http api", c("http://api.shop.test/me", "http://www.shop.test"), ""},
		{"benign localhost dev", c("https://localhost:8443/me", "http://localhost:3000"), ""},
		{"benign loopback dev", c("https://127.0.0.1:8443/me", "http://127.0.0.1:5173"), ""},
		{"benign without credentials", ex("GET", "https://api.shop.test/me", hdr("Origin", "http://www.shop.test"), resp(200, "{}", "Access-Control-Allow-Origin", "http://www.shop.test")), ""},
	})
}

// TestVerboseRuntimeTraces: Node frames in its own modules, Rust panics and
// Ruby 3.4 backtraces, which quote the method with '.
func TestVerboseRuntimeTraces(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"node internal frames in a field", r(`{"err":"Error: getaddrinfo ENOTFOUND cache.internal\n    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:120:26)"}`), "Node.js"},
		{"node internal frame plain", r("TypeError: x is not a function\n    at Socket.emit (node:events:519:28)\n"), "Node.js"},
		{"rust panic new format", r("thread 'actix-rt|system:0|arbiter:1' panicked at src/db/pool.rs:41:9:\nconnection refused\n"), "Rust panic"},
		{"rust panic old format in json", r(`{"error":"thread 'main' panicked at 'index out of bounds: the len is 3 but the index is 7', src/orders.rs:120:17"}`), "Rust panic"},
		{"ruby 3.4 frame in json", r(`{"backtrace":["/srv/app/app/services/refund.rb:18:in 'Refund#call'"]}`), "Ruby backtrace"},
		{"ruby frame with backtick", r("lib/tasks/import.rb:7:in `block in run'"), "Ruby backtrace"},
		{"benign node warning count", r(`{"msg":"(node:4212) processes running","at":"noon"}`), ""},
		{"benign node version", r(`{"runtime":"at least (node:20) is required"}`), ""},
		{"benign panicked prose", r(`{"story":"the crowd panicked at the stadium.rs gate"}`), ""},
		{"benign thread title", r(`{"title":"thread 'Help' panicked at first, then calmed"}`), ""},
		{"benign ruby file mention", r(`{"comment":"see refund.rb:18 in 'Refund' docs"}`), ""},
	})
}

// TestVerboseMoreDatabaseErrors: PostgreSQL's bare qualified names, its
// position caret, the Ruby pg gem's classes and IBM Db2's drivers.
func TestVerboseMoreDatabaseErrors(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	cases := []detCase{
		{"qualified column", r(`{"error":"ERROR:  column o.shipped_on does not exist"}`), "PostgreSQL"},
		{"function with argument types", r(`{"error":"pq: function lower(integer) does not exist"}`), "PostgreSQL"},
		{"pg gem class", r(`{"error":"PG::UniqueViolation: ERROR:  duplicate key value violates unique constraint \"index_users_on_email\""}`), "PostgreSQL"},
		{"position caret in json", r(`{"detail":"syntax problem\nLINE 3:   WHERE \"o\".\"id\" = 'x\n                 ^\n"}`), "PostgreSQL"},
		{"position caret plain", r("bad statement\nLINE 1: SELECT * FROM orders ORDER BY 9\n                                      ^\n"), "PostgreSQL"},
		{"db2 jdbc", r(`{"error":"com.ibm.db2.jcc.am.SqlSyntaxErrorException: DB2 SQL Error: SQLCODE=-204, SQLSTATE=42704, SQLERRMC=APP.ORDERS"}`), "Db2"},
		{"db2 cli", r(`{"error":"[IBM][CLI Driver][DB2/LINUXX8664] SQL0206N  \"EMIAL\" is not valid in the context where it is used."}`), "Db2"},
		{"benign bare column", r(`{"error":"ERROR: column price does not exist in this report"}`), ""},
		{"benign dotted file", r(`{"error":"file report.csv does not exist"}`), ""},
		{"benign class name", r(`{"team":"PG::Ops","note":"ERROR: none"}`), ""},
		{"benign line in a poem", r(`{"poem":"LINE 1: roses are red\nLINE 2: violets are blue"}`), ""},
		{"benign db2 mention", r(`{"docs":"We migrated from DB2 last year; SQL errors are logged"}`), ""},
	}
	runCases(t, NewVerbose(), "detect.misconfig.verbose", cases)
	wantHighSeverity(t, cases)
}

// TestVerbosePHPDebugJSON: a PHP framework's debug JSON, which names the
// exception and the server path and line where it was thrown.
func TestVerbosePHPDebugJSON(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"exception then file", r(`{"message":"Division by zero","exception":"DivisionByZeroError","file":"/srv/shop/app/Services/Tax.php","line":31,"trace":[]}`), "PHP error"},
		{"frames in a trace", r(`{"title":"Internal Server Error","status":500,"trace":[{"namespace":"","short_class":"Kernel","class":"App\\Kernel","type":"->","function":"handle","file":"/app/vendor/symfony/http-kernel/Kernel.php","line":197,"args":[]}]}`), "PHP error"},
		{"pretty printed windows path", r("{\n  \"exception\": \"TypeError\",\n  \"file\": \"C:\\\\inetpub\\\\api\\\\src\\\\Cart.php\",\n  \"line\": 64\n}"), "PHP error"},
		{"benign code review comment", r(`{"file":"/src/Controller/Cart.php","line":12,"comment":"rename this"}`), ""},
		{"benign relative path with exception text", r(`{"exception":"none","file":"app/Cart.php","line":3}`), ""},
		{"benign download of a php file", r(`{"trace":"off","download":"/files/setup.php","size":1200}`), ""},
	})
}

// wantHighSeverity checks that the database errors among cases (those that
// want a finding) are reported at high severity.
func wantHighSeverity(t *testing.T, cases []detCase) {
	t.Helper()
	for _, tc := range cases {
		if tc.want == "" {
			continue
		}
		got, _ := NewVerbose().Analyze(context.Background(), tc.x)
		var leak *vigil.Finding
		for i := range got {
			if strings.HasPrefix(got[i].Title, "Verbose error") {
				leak = &got[i]
			}
		}
		switch {
		case leak == nil:
			t.Errorf("%s: no verbose-error finding in %+v", tc.name, got)
		case leak.Severity != vigil.SeverityHigh:
			t.Errorf("%s: severity %v, want high for a database error", tc.name, leak.Severity)
		}
	}
}

// TestVerboseNodeModuleFrames: Node frames of ES modules and TypeScript,
// which name .mjs, .cjs or .ts files or file:// URLs.
func TestVerboseNodeModuleFrames(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"esm frame by file url", r(`{"stack":"RangeError: Invalid array length\n    at buildPage (file:///srv/api/lib/paging.mjs:52:9)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"}`), "Node.js"},
		{"typescript frame in plain text", r("TypeError: Cannot read properties of null (reading 'id')\n    at loadCart (/opt/shop/src/cart/service.ts:114:30)\n    at Layer.handle (/opt/shop/node_modules/express/lib/router/layer.js:95:5)"), "Node.js"},
		{"commonjs frame without a function", r("Error: boom\n    at /usr/src/app/dist/index.cjs:8:17\n"), "Node.js"},
		{"ts frame on windows", r(`{"trace":"Error: x\n    at render (C:\\build\\web\\src\\Page.ts:21:3)"}`), "Node.js"},
		{"benign indented at in prose", r("Pickup\n    at Central Station (platform 4)\n"), ""},
		{"benign file name with a time", r(`{"note":"    at noon upload report.ts: 12:30 is fine"}`), ""},
		{"benign anonymous frames only", r(`{"hint":"    at Array.map (<anonymous>)"}`), ""},
	})
}

// TestVerboseRubyNameErrors: Ruby's NameError and NoMethodError messages
// as Rails logs them, or with the class after them.
func TestVerboseRubyNameErrors(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"rails log nomethoderror", r("NoMethodError (undefined method `total' for nil:NilClass):\n  app/controllers/orders_controller.rb"), "Ruby"},
		{"namespaced wrapper", r(`{"error":"ActionView::Template::Error (undefined method 'price' for an instance of Basket)"}`), "Ruby"},
		{"ruby 3.4 class after", r(`{"error":"undefined local variable or method 'user' for main (NameError)"}`), "Ruby"},
		{"benign javascript undefined", r(`{"error":"Cannot read properties of undefined (reading 'id')"}`), ""},
		{"benign method undefined prose", r(`{"faq":"Payment method 'card' is undefined for this region"}`), ""},
		{"benign unqualified message", r(`{"tip":"undefined method 'x' for nil means a missing record"}`), ""},
	})
}

// TestVerboseSQLiteMySQLErrors: SQLite's result codes and constraint
// messages, MySQL's error numbers, wording and Node driver fields.
func TestVerboseSQLiteMySQLErrors(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"sqlite extended code", r(`{"error":"SQLITE_CONSTRAINT_PRIMARYKEY: cannot insert"}`), "SQLite"},
		{"sqlite busy", r(`{"error":"database locked (SQLITE_BUSY)"}`), "SQLite"},
		{"sqlite not null", r(`{"message":"NOT NULL constraint failed: orders.customer_id"}`), "SQLite"},
		{"sqlite foreign key", r(`{"message":"FOREIGN KEY constraint failed"}`), "SQLite"},
		{"go mysql driver number", r(`{"error":"Error 1054 (42S22): Unknown column 'x'"}`), "MySQL"},
		{"mysql client number", r("ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.4'"), "MySQL"},
		{"missing qualified table", r(`{"error":"Table 'shop.carts_v2' doesn't exist"}`), "MySQL"},
		{"unknown column where", r(`{"error":"Unknown column 'usr.email' in 'where clause'"}`), "MySQL"},
		{"mysqljs fields", r(`{"code":"ER_NO_SUCH_TABLE","errno":1146,"sqlState":"42S02"}`), "MySQL"},
		{"mysqljs fields reversed", r(`{"sqlMessage":"x","code":"ER_PARSE_ERROR"}`), "MySQL"},
		{"benign sqlite config name", r(`{"env":{"SQLITE_PATH":"/data/app.db"}}`), ""},
		{"benign constraint prose", r(`{"error":"Delivery window constraint failed: pick another day"}`), ""},
		{"benign error number", r(`{"error":"Error 4001 (card): declined"}`), ""},
		{"benign unqualified table", r(`{"error":"Table 'Window 4' doesn't exist"}`), ""},
		{"benign unknown column prose", r(`{"error":"Unknown column 'Size' in your CSV upload"}`), ""},
		{"benign er code", r(`{"code":"ER_TIMEOUT","message":"try again"}`), ""},
		{"benign duplicate entry", r(`{"error":"Duplicate entry in your cart"}`), ""},
	})
}

// TestVerboseLaterOccurrence: the page's own text may hold an anchor's words
// long before the leak; the leak further down is still read, and a page
// holding only such words is still no leak.
func TestVerboseLaterOccurrence(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	filler := strings.Repeat("All orders ship within two days. ", 60) // 2 KB of page text
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"java frames after a file name in the text", r(`{"help":"see Invoice.java: rounding","faq":"` + filler +
			`","trace":"java.lang.IllegalStateException: closed\n\tat com.example.billing.InvoiceService.load(InvoiceService.java:88)"}`), "Java"},
		{"postgres error after prose", r("<p>If the page does not exist, check the link.</p><p>" + filler +
			`</p><pre>ERROR:  relation "accounts" does not exist</pre>`), "PostgreSQL error"},
		{"go trace after a panic word", r(`{"faq":"Do not panic: the order is safe. ` + filler +
			`","stack":"panic: runtime error: index out of range\n\ngoroutine 17 [running]:\nmain.handler()"}`), "Go"},
		{"benign anchor words throughout", r(strings.Repeat(`<p>The file Invoice.java: see the docs. Do not panic: it does not exist yet. `+filler+`</p>`, 6)), ""},
	})
}

// BenchmarkVerboseDecoys: a 12 KB page full of the words that anchor leaks,
// none of them a leak – the worst case of confirm's second window – against
// the baseline of one bytes.Index per anchor over the page.
func BenchmarkVerboseDecoys(b *testing.B) {
	filler := strings.Repeat("All orders ship within two days. ", 60)
	page := []byte(strings.Repeat(`<p>The file Invoice.java: see the docs. Do not panic: it does not exist yet. `+filler+`</p>`, 6))
	anchors := make([][]byte, len(leaks))
	for k := range leaks {
		anchors[k] = []byte(leaks[k].anchor)
	}
	var baseline float64
	b.Run("baseline-index", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			for _, a := range anchors {
				_ = bytes.Index(page, a)
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("verbose", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			if verboseBody(page[:min(len(page), maxScanBody)]) != nil {
				b.Fatal("leak")
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}

// TestVerboseORMAndToolFormats: database errors as Node's ORMs and SQL
// Server's tools word them.
func TestVerboseORMAndToolFormats(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/o/1", resp(500, b)) }
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"sequelize missing column", r(`{"detail":"SequelizeDatabaseError: column \"driver_rating\" does not exist"}`), "PostgreSQL error"},
		{"typeorm missing function", r(`{"message":"QueryFailedError: function lower(integer) does not exist"}`), "PostgreSQL error"},
		{"sequelize syntax", r(`{"error":"SequelizeDatabaseError: invalid reference at or near \"FROM\""}`), "PostgreSQL error"},
		{"sql server message header", r(`{"detail":"Msg 208, Level 16, State 1, Line 1\nInvalid object name 'dbo.ClaimNotes'."}`), "SQL Server error"},
		{"sql server header without a line", r("Msg 2627, Level 14, State 1\nViolation of PRIMARY KEY constraint"), "SQL Server error"},
		{"unqualified .net exception with hresult", r(`{"error":"SqlException (0x80131904): Invalid column name 'PublishedUtc'."}`), ".NET exception"},
		{"db2 message without its driver prefix", r(`{"error":"SQL0204N  \"OPENDATA.PERMITS_2026\" is an undefined name.  SQLSTATE=42704"}`), "Db2"},
		{"benign sqlstate in docs", r(`{"doc":"Errors carry SQLSTATE=class codes, see the manual"}`), ""},
		{"php 8 uncaught error", r("Fatal error: Uncaught TypeError: strlen(): Argument #1 ($string) must be of type string, array given in /var/www/signdesk/lib/Pdf.php:18"), "PHP fatal error"},
		{"symfony exception page", r(`<div class="exception-message-wrapper"><h1 class="break-long-words exception-message">Symfony\Component\HttpKernel\Exception\NotFoundHttpException</h1></div>`), "Symfony"},
		{"postgres constraint violation behind typeorm", r(`{"error":"QueryFailedError: duplicate key value violates unique constraint \"members_list_id_email_key\""}`), "PostgreSQL error"},
		{"benign conflict message", r(`{"error":"conflict","message":"This email violates our list policy: already subscribed"}`), ""},
		{"benign fatal error prose", r(`{"faq":"A Fatal error: in the game means your save is corrupt"}`), ""},
		{"npgsql exception", r(`{"error":"SqlState: 42703, Message: column \"kid\" does not exist, Position: 8, Npgsql.PostgresException"}`), "PostgreSQL error"},
		{"sequelize error name", r(`{"error":{"message":"SequelizeDatabaseError: operator does not exist: integer = text","name":"SequelizeDatabaseError"}}`), "Sequelize"},
		{"benign error name in docs", r(`{"doc":"A SequelizeDatabaseError: Message is what the ORM throws"}`), ""},
		{"python sqlite3 operational error", r(`{"detail":"sqlite3.OperationalError: no such table: observations_tmp"}`), "SQLite"},
		{"sqlite no such column", r(`{"error":"no such column: tierx"}`), "SQLite error"},
		{"postgres qualified column in a serialized orm error", r(`{"name":"SequelizeDatabaseError","parent":{"code":"42703","sql":"SELECT \"id\" FROM \"members\""},"original":{"message":"column members.tierx does not exist"}}`), "PostgreSQL error"},
		{"benign no such page", r(`{"error":"no such page: try the search"}`), ""},
		{"sql server through odbc", r(`{"error":"[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Arithmetic overflow error converting numeric to data type numeric."}`), "SQL Server error"},
		{"php exception interface", r(`{"exception":"Psr\\Container\\NotFoundExceptionInterface: Service \"edi.parser\" not found in /var/www/procurant/vendor/symfony/dependency-injection/Container.php:262"}`), "PHP"},
		{"benign sql server mention", r(`{"doc":"We support Microsoft SQL Server 2022 and PostgreSQL 16"}`), ""},
		{"ruby sqlite3 gem exception", r(`{"data":null,"errors":[{"message":"SQLite3::ConstraintException: UNIQUE constraint failed"}]}`), "SQLite error"},
		{"ruby sqlite3 busy", r(`{"error":"SQLite3::BusyException: database is locked"}`), "SQLite error"},
		{"benign sqlite3 word", r(`{"note":"We moved off SQLite3 last year. Exception: the CLI still uses it"}`), ""},
		{"benign column name in a validation error", r(`{"error":"column \"email\" does not exist in the uploaded CSV"}`), ""},
		{"benign game text", r(`{"quest":"Msg the guild, Level 16 heroes only, State your class"}`), ""},
	})
}
