//! A tiny HTTP/1.1 server for in-process tests of the AWS SDK clients: every request is
//! recorded and answered by the test's function. Keep-alive, `Content-Length` bodies and
//! chunked bodies (which it does not decode) are enough for the SDK.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path and query.
    pub uri: String,
    pub body: Vec<u8>,
}

/// An answer: status, content type, body.
pub type Answer = (u16, &'static str, String);

pub struct Server {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// Listens on 127.0.0.1 and answers each request with `answer`.
pub async fn start(answer: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let log = requests.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (answer, log) = (answer.clone(), log.clone());
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let uri = parts.next().unwrap_or_default().to_string();
                    let (mut length, mut chunked) = (0usize, false);
                    loop {
                        let mut header = String::new();
                        if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        let (name, value) = header.split_once(':').unwrap_or((header, ""));
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "transfer-encoding" => chunked = value.contains("chunked"),
                            _ => {}
                        }
                    }
                    let mut body = Vec::new();
                    if chunked {
                        loop {
                            let mut size = String::new();
                            read.read_line(&mut size).await.unwrap();
                            let n =
                                usize::from_str_radix(size.trim().split(';').next().unwrap(), 16)
                                    .unwrap_or(0);
                            let mut chunk = vec![0; n + 2];
                            read.read_exact(&mut chunk).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            body.extend_from_slice(&chunk[..n]);
                        }
                    } else {
                        body.resize(length, 0);
                        read.read_exact(&mut body).await.unwrap();
                    }
                    let request = Request { method, uri, body };
                    let (status, content_type, text) = answer(&request);
                    log.lock().unwrap().push(request);
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                        text.len()
                    );
                    if write.write_all(head.as_bytes()).await.is_err()
                        || write.write_all(text.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Server { url, requests }
}

/// The runner's configuration for tests: static keys, us-east-1, every client at `url`.
pub fn sdk_config(url: &str) -> aws_config::SdkConfig {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDRUNNER",
            "secret",
            None,
            None,
            "test",
        )))
        .build()
}
