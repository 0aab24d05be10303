"""The API with a route that keeps a user in the session cookie, served by gunicorn for the browser test of
third-party cookies: POST TEST_API/session (conftest) signs "ada" in, GET says whose session the request carried.

The cookie is the app's own (SECRET_KEY, Secure, HttpOnly, SESSION_COOKIE_SAMESITE): what the browser
does with it is what it does with the API's login cookie.
"""

from flask import jsonify, session

from {{ cookiecutter.package_name }} import create_app

from conftest import TEST_API

app = create_app()


@app.post(f"{TEST_API}/session")
def sign_in():
    session["user"] = "ada"
    return jsonify(user=session["user"])


@app.get(f"{TEST_API}/session")
def whose_session():
    return jsonify(user=session.get("user"))
