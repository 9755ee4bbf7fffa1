// pgJDBC logging in to a chatlake server with a password (SCRAM-SHA-256), optionally over TLS
// verified against a CA file: prints key=value lines.
// Usage: java -cp postgresql.jar:. JdbcAuth PORT USER PASSWORD [CA_FILE]
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

public class JdbcAuth {
    public static void main(String[] args) throws Exception {
        String host = args.length > 3 ? "localhost" : "127.0.0.1";
        String url = "jdbc:postgresql://" + host + ":" + args[0] + "/chatlake";
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("connectTimeout", "10");
        if (args.length > 3) {
            props.setProperty("ssl", "true");
            props.setProperty("sslmode", "verify-full");
            props.setProperty("sslrootcert", args[3]);
        } else {
            props.setProperty("sslmode", "disable");
        }
        try (Connection c = DriverManager.getConnection(url, props);
             ResultSet rs = c.createStatement().executeQuery("SELECT 41 + 1")) {
            rs.next();
            System.out.println("value=" + rs.getLong(1));
        } catch (SQLException e) {
            System.out.println("sqlstate=" + e.getSQLState());
            System.out.println("message=" + e.getMessage());
        }
    }
}
