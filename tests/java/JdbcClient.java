// pgJDBC (Debian's libpostgresql-jdbc-java) against a chatlake server: connects, walks
// DatabaseMetaData the way DBeaver, Metabase and Tableau do, runs a PreparedStatement past
// prepareThreshold (named statement, binary results), reads with setFetchSize inside a
// transaction (portal suspension), and reads ResultSetMetaData. Prints one line per check,
// "name=value"; test_clients.py compares them.
//
// Usage: java -cp postgresql.jar:. JdbcClient PORT
import java.sql.*;
import java.util.*;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/chatlake";
        Properties props = new Properties();
        props.setProperty("user", "analyst");
        props.setProperty("sslmode", "disable");
        try (Connection c = DriverManager.getConnection(url, props)) {
            DatabaseMetaData md = c.getMetaData();
            out("product", md.getDatabaseProductName());
            out("major", md.getDatabaseMajorVersion());
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            out("schemas_has_public", schemas.contains("public"));
            Set<String> tables = new TreeSet<>();
            Set<String> views = new TreeSet<>();
            try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"})) {
                while (rs.next()) {
                    String type = rs.getString("TABLE_TYPE");
                    if ("TABLE".equals(type)) tables.add(rs.getString("TABLE_NAME"));
                    if ("VIEW".equals(type)) views.add(rs.getString("TABLE_NAME"));
                }
            }
            out("tables_has_messages", tables.contains("messages"));
            out("views", String.join(",", views));
            Map<String, String> types = new TreeMap<>();
            try (ResultSet rs = md.getColumns(null, "public", "messages", "%")) {
                while (rs.next()) {
                    types.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME") + "/" + rs.getInt("DATA_TYPE") + "/" + rs.getInt("NULLABLE"));
                }
            }
            out("col_ts", types.get("ts"));
            out("col_message_id", types.get("message_id"));
            out("col_calling_code", types.get("calling_code"));
            out("col_is_template", types.get("is_template"));
            int pks = 0;
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "messages")) {
                while (rs.next()) pks++;
                out("primary_keys", pks);
            } catch (SQLException e) {
                out("primary_keys", "error " + e.getSQLState());
            }
            for (String kind : new String[] {"imported_keys", "exported_keys"}) {
                int keys = 0;
                try (ResultSet rs = kind.equals("imported_keys")
                        ? md.getImportedKeys(null, "public", "messages")
                        : md.getExportedKeys(null, "public", "messages")) {
                    while (rs.next()) keys++;
                    out(kind, keys);
                } catch (SQLException e) {
                    out(kind, "error " + e.getSQLState());
                }
            }
            int indexes = 0;
            try (ResultSet rs = md.getIndexInfo(null, "public", "messages", false, true)) {
                while (rs.next()) indexes++;
                out("indexes", indexes);
            } catch (SQLException e) {
                out("indexes", "error " + e.getSQLState());
            }

            // Reports are functions returning tables (FUNCTION_TYPE 2), described by their header.
            try (ResultSet rs = md.getFunctions(null, "public", "stella_users")) {
                while (rs.next()) {
                    out("function_type", rs.getInt("FUNCTION_TYPE"));
                    out("function_remarks_start", rs.getString("REMARKS").substring(0, 16));
                }
            }
            // Report arguments as PreparedStatement parameters (setDate, setString).
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM stella_users(?, ?)")) {
                ps.setDate(1, java.sql.Date.valueOf("2026-10-03"));
                ps.setString(2, "2026-10-05");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out("report_days", rs.getLong(1));
                }
            }

            long literal;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM messages WHERE calling_code = 57")) {
                rs.next();
                literal = rs.getLong(1);
            }
            // Six runs: the fifth and later use the named statement S_1 with binary results.
            boolean same = true;
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM messages WHERE calling_code = ?")) {
                for (int i = 0; i < 6; i++) {
                    ps.setInt(1, 57);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        same &= rs.getLong(1) == literal;
                    }
                }
                ParameterMetaData pmd = ps.getParameterMetaData();
                out("param_count", pmd.getParameterCount());
            }
            out("prepared_matches_literal", same);
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM messages WHERE ts >= ?")) {
                ps.setTimestamp(1, Timestamp.valueOf("2026-10-01 00:00:00"));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out("timestamp_param_ok", rs.getLong(1) >= 0);
                }
            }

            long total;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM messages")) {
                rs.next();
                total = rs.getLong(1);
            }
            c.setAutoCommit(false);
            long read = 0;
            try (Statement st = c.createStatement()) {
                st.setFetchSize(500);
                try (ResultSet rs = st.executeQuery("SELECT message_id, ts, is_template FROM messages")) {
                    ResultSetMetaData rmd = rs.getMetaData();
                    out("rsmd_columns", rmd.getColumnCount());
                    out("rsmd_ts_type", rmd.getColumnTypeName(2));
                    // From the table OID and column number in RowDescription: pgJDBC looks the
                    // column up in pg_attribute (NOT NULL) and pg_class (its table).
                    out("rsmd_message_id_nullable", rmd.isNullable(1));
                    out("rsmd_message_id_table",
                        ((org.postgresql.PGResultSetMetaData) rmd).getBaseTableName(1));
                    while (rs.next()) read++;
                }
            }
            c.commit();
            c.setAutoCommit(true);
            out("fetch_size_rows_match", read == total);
            out("valid", c.isValid(5));
        }
    }

    static void out(String key, Object value) {
        System.out.println(key + "=" + value);
    }
}
