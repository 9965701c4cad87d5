"""Extensions, created unbound and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

from typing import Any  # noqa: E402

from celery import Celery, Task  # noqa: E402


class AppContextTask(Task):  # type: ignore[misc]
    """Runs every task inside the Flask app bound by ``init_celery``."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flask_app = getattr(self.app, "flask_app", None)
        if flask_app is None:
            return self.run(*args, **kwargs)
        with flask_app.app_context():
            return self.run(*args, **kwargs)


celery = Celery("portal", task_cls=AppContextTask)
